package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bulwark-dev/bulwark/tools/attack"
)

// runCmd runs the command as main would, with no environment, and returns
// what it printed and its exit status.
func runCmd(t *testing.T, args ...string) (stdout, stderr string, status int, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = run(ctx, args, func(string) string { return "" }, &out, &errOut)
	return out.String(), errOut.String(), exitStatus(err), err
}

// countingServer is a stand-in target that records how many requests it got.
func countingServer(t *testing.T, status int, body string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestParseArgs(t *testing.T) {
	devKey, _ := base64.RawURLEncoding.DecodeString("ZGV2ZWxvcG1lbnQtb25seS1rZXktbmV2ZXItdXNlLWluLXByb2R1Y3Rpb24")
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantKID string
		wantKey []byte
		check   func(t *testing.T, o options)
	}{
		{name: "defaults", check: func(t *testing.T, o options) {
			t.Helper()
			if o.target.String() != "http://127.0.0.1:8080" || o.timeout != 2*time.Minute || o.json || o.list || o.allowRemote {
				t.Errorf("defaults = %+v", o)
			}
		}},
		{name: "dev shorthand is the published key", args: []string{"-signing-key", "dev"}, wantKID: "dev", wantKey: devKey},
		{name: "explicit key", args: []string{"-signing-key", "k1:" + base64.RawURLEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))}, wantKID: "k1", wantKey: []byte("0123456789abcdef0123456789abcdef")},
		{name: "padded standard base64", args: []string{"-signing-key", "k2:" + base64.StdEncoding.EncodeToString([]byte("key?>"))}, wantKID: "k2", wantKey: []byte("key?>")},
		{name: "key from the environment", env: map[string]string{signingKeyEnv: "dev"}, wantKID: "dev", wantKey: devKey},
		{name: "flag wins over the environment", args: []string{"-signing-key", "k3:AAAA"}, env: map[string]string{signingKeyEnv: "dev"}, wantKID: "k3", wantKey: []byte{0, 0, 0}},
		{name: "other flags", args: []string{"-target", "https://localhost:8443/", "-issue", "bola", "-json", "-timeout", "5s", "-allow-remote"}, check: func(t *testing.T, o options) {
			t.Helper()
			if o.target.Host != "localhost:8443" || o.issue != "bola" || !o.json || o.timeout != 5*time.Second || !o.allowRemote {
				t.Errorf("options = %+v", o)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseArgs(tt.args, func(k string) string { return tt.env[k] }, &bytes.Buffer{})
			if err != nil {
				t.Fatalf("parseArgs(%q): %v", tt.args, err)
			}
			if o.signingKeyID != tt.wantKID || !bytes.Equal(o.signingKey, tt.wantKey) {
				t.Errorf("signing key = %q %x, want %q %x", o.signingKeyID, o.signingKey, tt.wantKID, tt.wantKey)
			}
			if tt.check != nil {
				tt.check(t, o)
			}
		})
	}
}

// TestUsageErrors: every mistake is exit status 2, says what is wrong, and
// sends nothing.
func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string // substrings of the error
	}{
		{name: "unknown issue", args: []string{"-issue", "nope"}, want: []string{`unknown issue "nope"`, "bola", "ratelimit", "sqli"}},
		{name: "unknown attack", args: []string{"-attack", "bola/nope"}, want: []string{`unknown attack "bola/nope"`, "bola/read-order", "misconfig/security-headers"}},
		{name: "remote target", args: []string{"-target", "http://192.0.2.10:8080"}, want: []string{"refusing to attack 192.0.2.10:8080", "not this machine", "-allow-remote"}},
		{name: "remote name that may resolve to loopback", args: []string{"-target", "http://localhost.example.com"}, want: []string{"refusing"}},
		{name: "not http", args: []string{"-target", "ftp://127.0.0.1/"}, want: []string{"http:// or https://"}},
		{name: "no scheme", args: []string{"-target", "127.0.0.1:8080"}, want: []string{"-target"}},
		{name: "no host", args: []string{"-target", "http:///api"}, want: []string{"no host"}},
		{name: "query", args: []string{"-target", "http://127.0.0.1:8080/?x=1"}, want: []string{"without query"}},
		{name: "issue and attack", args: []string{"-issue", "bola", "-attack", "bola/read-order"}, want: []string{"not both"}},
		{name: "zero timeout", args: []string{"-timeout", "0s"}, want: []string{"-timeout must be positive"}},
		{name: "unknown flag", args: []string{"-verbose"}, want: []string{"-verbose", "see -h"}},
		{name: "positional argument", args: []string{"bola"}, want: []string{`unexpected argument "bola"`}},
		{name: "signing key without kid", args: []string{"-signing-key", "c2VjcmV0"}, want: []string{"kid:base64url"}},
		{name: "signing key not base64", args: []string{"-signing-key", "k:not base64!"}, want: []string{`-signing-key "k"`, "not valid base64"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, _, status, err := runCmd(t, tt.args...)
			if status != exitFailed || err == nil {
				t.Fatalf("status %d, err %v; want %d and an error", status, err, exitFailed)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if stdout != "" {
				t.Errorf("printed a report on a usage error:\n%s", stdout)
			}
		})
	}
}

func TestSigningKeyNeverInErrors(t *testing.T) {
	_, _, _, err := runCmd(t, "-signing-key", "k:s3cr3t-value!")
	if err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("error = %v; want an error that does not repeat the key", err)
	}
}

func TestHelp(t *testing.T) {
	stdout, _, status, err := runCmd(t, "-h")
	if err != nil || status != exitOK {
		t.Fatalf("-h: status %d, err %v", status, err)
	}
	for _, w := range []string{"-signing-key", `"dev"`, "ZGV2ZWxvcG1lbnQtb25seS1rZXktbmV2ZXItdXNlLWluLXByb2R1Y3Rpb24", "-allow-remote", "Exit status"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("usage does not mention %q:\n%s", w, stdout)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	tests := map[string]bool{
		"127.0.0.1": true, "127.8.9.10": true, "::1": true, "localhost": true, "LocalHost": true,
		"128.0.0.1": false, "0.0.0.0": false, "192.168.1.10": false, "example.com": false,
		"localhost.example.com": false, "::ffff:10.0.0.1": false, "": false,
	}
	for host, want := range tests {
		if got := isLoopback(host); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}

// TestList: -list prints every attack and sends nothing, even to a target.
func TestList(t *testing.T) {
	srv, requests := countingServer(t, http.StatusOK, "{}")
	stdout, _, status, err := runCmd(t, "-list", "-target", srv.URL)
	if err != nil || status != exitOK {
		t.Fatalf("-list: status %d, err %v", status, err)
	}
	for _, a := range attack.Catalogue() {
		if !strings.Contains(stdout, a.ID) {
			t.Errorf("-list output misses %s", a.ID)
		}
	}

	stdout, _, _, err = runCmd(t, "-list", "-json", "-issue", "cors")
	if err != nil {
		t.Fatalf("-list -json: %v", err)
	}
	var entries []catalogueEntry
	if err := json.Unmarshal([]byte(stdout), &entries); err != nil {
		t.Fatalf("-list -json is not JSON: %v\n%s", err, stdout)
	}
	var want []catalogueEntry
	for _, a := range attack.ByIssue("cors") {
		want = append(want, entryOf(a))
	}
	if diff := cmp.Diff(want, entries); diff != "" {
		t.Errorf("-list -json -issue cors (-want +got):\n%s", diff)
	}

	if n := requests.Load(); n != 0 {
		t.Errorf("-list sent %d requests", n)
	}
}

// TestRateLimitAttacksRunLast: a full run must not spend the login limits
// before the attacks that need to log in.
func TestRateLimitAttacksRunLast(t *testing.T) {
	got, err := selectAttacks("", "")
	if err != nil {
		t.Fatal(err)
	}
	var others, limited []string
	for _, a := range attack.Catalogue() {
		if a.Issue == rateLimitIssue {
			limited = append(limited, a.ID)
		} else {
			others = append(others, a.ID)
		}
	}
	if len(limited) == 0 {
		t.Fatal("the catalogue has no rate-limit attacks; the ordering is untested")
	}
	ids := make([]string, len(got))
	for i, a := range got {
		ids[i] = a.ID
	}
	if diff := cmp.Diff(append(others, limited...), ids); diff != "" {
		t.Errorf("run order (-want +got):\n%s", diff)
	}
}

// TestReportsExploitation runs a real catalogue attack against a server that
// is not Bulwark: it answers 200 "{}" to everything, with none of the
// security headers. The runner must say EXPLOITED and exit 1, or it could
// not guard anything.
func TestReportsExploitation(t *testing.T) {
	srv, requests := countingServer(t, http.StatusOK, "{}")

	stdout, _, status, err := runCmd(t, "-target", srv.URL, "-attack", "misconfig/security-headers")
	if status != exitExploited {
		t.Fatalf("status %d (err %v), want %d\n%s", status, err, exitExploited, stdout)
	}
	for _, w := range []string{"misconfig/security-headers", "EXPLOITED", "nosniff", "\nsummary: 0 blocked, 1 exploited, 0 skipped, 0 errors\n"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("table does not contain %q:\n%s", w, stdout)
		}
	}

	stdout, stderr, status, _ := runCmd(t, "-target", srv.URL, "-attack", "misconfig/security-headers", "-json")
	if status != exitExploited {
		t.Errorf("-json: status %d, want %d", status, exitExploited)
	}
	var results []jsonResult
	if err := json.Unmarshal([]byte(stdout), &results); err != nil {
		t.Fatalf("-json output is not JSON: %v\n%s", err, stdout)
	}
	if len(results) != 1 || results[0].ID != "misconfig/security-headers" || results[0].Verdict != string(attack.Exploited) ||
		results[0].OWASP != "API8:2023" || results[0].CWE != "CWE-693" || results[0].Story == "" || results[0].Evidence == "" {
		t.Errorf("-json results = %+v", results)
	}
	if !strings.Contains(stderr, "summary: 0 blocked, 1 exploited") {
		t.Errorf("-json: summary missing from stderr:\n%s", stderr)
	}
	if requests.Load() == 0 {
		t.Error("the stand-in server got no requests")
	}
}

// TestRateLimitedIsAnErrorWithAHint: an attack that cannot log in because
// an earlier attack spent the limit is an ERROR (never BLOCKED), and the
// message tells the workshop what to do.
func TestRateLimitedIsAnErrorWithAHint(t *testing.T) {
	srv, _ := countingServer(t, http.StatusTooManyRequests, `{"title":"Too Many Requests"}`)

	stdout, _, status, _ := runCmd(t, "-target", srv.URL, "-attack", "bola/read-order", "-json")
	if status != exitFailed {
		t.Errorf("status %d, want %d", status, exitFailed)
	}
	var results []jsonResult
	if err := json.Unmarshal([]byte(stdout), &results); err != nil {
		t.Fatalf("-json output is not JSON: %v\n%s", err, stdout)
	}
	if len(results) != 1 || results[0].Verdict != verdictError {
		t.Fatalf("results = %+v, want one ERROR", results)
	}
	for _, w := range []string{"429", "earlier attack", "make demo", "-issue"} {
		if !strings.Contains(results[0].Evidence, w) {
			t.Errorf("evidence %q does not contain %q", results[0].Evidence, w)
		}
	}

	// The table cuts evidence, so the hint must survive in the text report too.
	stdout, _, _, _ = runCmd(t, "-target", srv.URL, "-attack", "bola/read-order")
	if !strings.Contains(stdout, "ERROR bola/read-order: ") || !strings.Contains(stdout, "make demo") {
		t.Errorf("text report hides the hint:\n%s", stdout)
	}
}

// TestOutcomes drives runAttacks with stand-in attacks to pin down how
// each kind of result is counted and what the exit status is.
func TestOutcomes(t *testing.T) {
	fake := func(id string, v attack.Verdict, err error) attack.Attack {
		return attack.Attack{ID: "fake/" + id, Issue: "fake", Run: func(context.Context, *attack.Target) (attack.Result, error) {
			return attack.Result{Verdict: v, Evidence: id}, err
		}}
	}
	panics := attack.Attack{ID: "fake/panics", Issue: "fake", Run: func(context.Context, *attack.Target) (attack.Result, error) {
		panic("index out of range")
	}}
	slow := attack.Attack{ID: "fake/slow", Issue: "fake", Run: func(ctx context.Context, _ *attack.Target) (attack.Result, error) {
		<-ctx.Done()
		return attack.Result{}, ctx.Err()
	}}
	tests := []struct {
		name       string
		attacks    []attack.Attack
		want       summary
		wantStatus int
	}{
		{"all blocked or skipped", []attack.Attack{fake("a", attack.Blocked, nil), fake("b", attack.Skipped, nil)}, summary{blocked: 1, skipped: 1}, exitOK},
		{"exploited", []attack.Attack{fake("a", attack.Blocked, nil), fake("b", attack.Exploited, nil)}, summary{blocked: 1, exploited: 1}, exitExploited},
		{"an error is not blocked", []attack.Attack{fake("a", attack.Blocked, errors.New("boom"))}, summary{errors: 1}, exitFailed},
		{"exploitation wins over errors", []attack.Attack{fake("a", "", errors.New("boom")), fake("b", attack.Exploited, nil)}, summary{exploited: 1, errors: 1}, exitExploited},
		{"a panic is an error", []attack.Attack{panics, fake("b", attack.Blocked, nil)}, summary{blocked: 1, errors: 1}, exitFailed},
		{"a timeout is an error", []attack.Attack{slow}, summary{errors: 1}, exitFailed},
		{"an unknown verdict is an error", []attack.Attack{fake("a", "MAYBE", nil)}, summary{errors: 1}, exitFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outcomes := runAttacks(context.Background(), attack.DemoTarget("http://127.0.0.1:1"), nil, tt.attacks, 50*time.Millisecond, &bytes.Buffer{})
			got := summarize(outcomes)
			if got != tt.want {
				t.Errorf("summary = %+v, want %+v", got, tt.want)
			}
			if status := exitStatus(verdictErr(got, len(outcomes), len(tt.attacks))); status != tt.wantStatus {
				t.Errorf("status = %d, want %d", status, tt.wantStatus)
			}
		})
	}
}

func TestInterruptedRunIsIncomplete(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	first := attack.Attack{ID: "fake/first", Issue: "fake", Run: func(context.Context, *attack.Target) (attack.Result, error) {
		cancel() // Ctrl-C during the first attack
		return attack.Result{Verdict: attack.Blocked}, nil
	}}
	second := attack.Attack{ID: "fake/second", Issue: "fake", Run: func(context.Context, *attack.Target) (attack.Result, error) {
		t.Error("ran an attack after the interrupt")
		return attack.Result{}, nil
	}}
	outcomes := runAttacks(ctx, attack.DemoTarget("http://127.0.0.1:1"), nil, []attack.Attack{first, second}, time.Second, &bytes.Buffer{})
	err := verdictErr(summarize(outcomes), len(outcomes), 2)
	if exitStatus(err) != exitFailed || !strings.Contains(err.Error(), "interrupted after 1 of 2") {
		t.Errorf("err = %v (status %d), want interrupted, status %d", err, exitStatus(err), exitFailed)
	}
}

// TestTableIsSafeFromHostileEvidence: a server's response cannot inject
// terminal escapes or fake table lines, and long evidence is cut to fit.
func TestTableIsSafeFromHostileEvidence(t *testing.T) {
	a := attack.Attack{ID: "bola/read-order", Issue: "bola"}
	outcomes := []outcome{
		{Attack: a, Verdict: string(attack.Exploited), Evidence: "GET / → 200 \x1b[2J\x1b[32m\nbola\tbola/read-order\tBLOCKED\tall good\u202e"},
		{Attack: a, Verdict: string(attack.Blocked), Evidence: strings.Repeat("é", 500)},
	}
	var out bytes.Buffer
	if err := writeTable(&out, outcomes); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	if strings.ContainsAny(text, "\x1b\t\u202e") {
		t.Errorf("table contains control characters: %q", text)
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) != 4 { // header, two attacks, the truncation note
		t.Fatalf("table has %d lines, want 4:\n%s", len(lines), text)
	}
	for _, l := range lines {
		if n := len([]rune(l)); n > tableWidth {
			t.Errorf("line of %d columns, want at most %d: %q", n, tableWidth, l)
		}
	}
}
