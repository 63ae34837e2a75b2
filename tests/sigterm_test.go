package tests

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The real binary, under load, gets SIGTERM the way an orchestrator sends
// it: the uploads and logins in flight finish with their normal answers,
// new connections are refused as soon as the shutdown begins, no request
// sees a 5xx, and the process exits 0 within SHUTDOWN_TIMEOUT.
//
// shutdown_test.go proves the same contract in-process by cancelling
// Run's context; this test adds what only a process can show: the signal
// wiring in main, the listener really closing, and the exit itself.
func TestShutdownSIGTERMUnderLoad(t *testing.T) {
	const shutdownTimeout = 8 * time.Second
	p := startProcess(t, buildAPI(t), map[string]string{
		// One slot per login: queued behind each other on a busy machine
		// they could outwait the hashing queue's bound and get a 503.
		"PASSWORD_HASH_CONCURRENCY": "2",
		"SHUTDOWN_TIMEOUT":          shutdownTimeout.String(),
		"TRUSTED_PROXIES":           "127.0.0.1",
	})
	const loaders = 4
	tokens := makeUsers(t, p.AdminURL, p.Key, loaders)
	created := call(t.Context(), http.DefaultClient, http.MethodPost, p.URL+"/api/v1/orders", tokens[0], "", orderJSON("sigterm"))
	if created.status != http.StatusCreated {
		t.Fatalf("create order: %v", created)
	}
	var order struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal([]byte(created.body), &order)

	// Background load on fresh connections, so that each request after the
	// signal shows what a new client meets.
	var (
		mu   sync.Mutex
		load []outcome
		wg   sync.WaitGroup
	)
	stop := make(chan struct{})
	fresh := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for w := range loaders {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				case <-p.exited:
					return
				case <-time.After(25 * time.Millisecond):
				}
				o := call(context.Background(), fresh, http.MethodGet, p.URL+"/api/v1/products", tokens[w], spreadIP(w), "")
				mu.Lock()
				load = append(load, o)
				mu.Unlock()
			}
		})
	}

	// Slow requests in flight when the signal arrives: two uploads of
	// 3 MiB sent at about 2.5 MiB/s, and two logins, each an argon2id hash.
	const uploadBytes = 3 << 20
	type done struct {
		what   string
		status int
		err    error
		at     time.Time
	}
	slow := make(chan done, 4)
	for range 2 {
		go func() {
			head, tail, ctype := envelope("report.pdf", "application/pdf")
			body := io.MultiReader(strings.NewReader(head), &throttled{r: io.LimitReader(newPDFStream(uploadBytes), uploadBytes), chunk: 64 << 10, every: 25 * time.Millisecond}, strings.NewReader(tail))
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, p.URL+"/api/v1/orders/"+order.ID+"/files", body)
			req.ContentLength = int64(len(head) + uploadBytes + len(tail))
			req.Header.Set("Content-Type", ctype)
			req.Header.Set("Authorization", "Bearer "+tokens[0])
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				slow <- done{what: "upload", err: err, at: time.Now()}
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			slow <- done{what: "upload", status: resp.StatusCode, at: time.Now()}
		}()
	}
	for range 2 {
		go func() {
			o := call(context.Background(), http.DefaultClient, http.MethodPost, p.URL+"/api/v1/auth/login", "", "",
				`{"email":"alice@example.com","password":"alice-demo-password"}`)
			slow <- done{what: "login", status: o.status, err: o.err, at: time.Now()}
		}()
	}

	time.Sleep(400 * time.Millisecond) // the uploads are under way, the logins hashing
	signalled := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}

	// As soon as the server says it is shutting down, a new connection is
	// refused, while the slow requests are still being served.
	if !eventually(2*time.Second, func() bool { return strings.Contains(p.logs.String(), `"msg":"shutting down"`) }) {
		t.Fatalf("no \"shutting down\" log line within 2s of SIGTERM")
	}
	var d net.Dialer
	conn, err := d.DialContext(t.Context(), "tcp", strings.TrimPrefix(p.URL, "http://"))
	refusedAt := time.Now()
	if err == nil {
		_ = conn.Close()
		t.Errorf("a new connection was accepted after the shutdown began")
	} else if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("new connection after the shutdown began: %v; want connection refused", err)
	}

	for range 4 {
		r := <-slow
		want := http.StatusCreated
		if r.what == "login" {
			want = http.StatusOK
		}
		if r.err != nil || r.status != want {
			t.Errorf("in-flight %s: status %d, error %v; want %d", r.what, r.status, r.err, want)
		}
		if r.what == "upload" && r.at.Before(refusedAt) {
			t.Logf("an upload finished before the refused dial: the dial did not prove refusal during the drain")
		}
	}

	select {
	case <-p.exited:
	case <-time.After(shutdownTimeout + 2*time.Second):
		t.Fatalf("the process did not exit within %v of SIGTERM", shutdownTimeout+2*time.Second)
	}
	close(stop)
	wg.Wait()
	took := p.exitedAt.Sub(signalled)
	t.Logf("exited %v after SIGTERM (shutdown timeout %v)", took.Round(time.Millisecond), shutdownTimeout)
	if p.exitErr != nil {
		t.Errorf("process exit: %v; want status 0", p.exitErr)
	}
	if took > shutdownTimeout {
		t.Errorf("process took %v to exit; SHUTDOWN_TIMEOUT is %v", took, shutdownTimeout)
	}
	if !strings.Contains(p.logs.String(), `"msg":"stopped"`) {
		t.Errorf("no \"stopped\" log line: the shutdown did not complete cleanly")
	}

	// The background load: answers before the signal, refusals after it,
	// never a 5xx.
	var answered, refused int
	for _, o := range load {
		switch {
		case o.err == nil && o.status < 500:
			answered++
		case o.err == nil:
			t.Errorf("request during shutdown: %v", o)
		case o.started.After(signalled.Add(-50*time.Millisecond)) && refusedOrReset(o.err):
			refused++
		default:
			t.Errorf("request started %v before SIGTERM failed: %v", signalled.Sub(o.started).Round(time.Millisecond), o)
		}
	}
	t.Logf("background load: %d answered, %d refused after the signal", answered, refused)
	if answered == 0 {
		t.Error("the background load got no answers at all")
	}
}

// throttled yields chunk bytes of r per interval, like a client on a slow
// link.
type throttled struct {
	r     io.Reader
	chunk int
	every time.Duration
}

func (s *throttled) Read(p []byte) (int, error) {
	time.Sleep(s.every)
	if len(p) > s.chunk {
		p = p[:s.chunk]
	}
	return s.r.Read(p)
}
