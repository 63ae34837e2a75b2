package tests

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"
)

// Stored XSS in the staff dashboard (docs/07-nested-validation.md), proven
// in a real headless Chromium: hostile text is stored in every field the
// dashboard shows, an admin signs in through the page's form, and the test
// watches for any payload running.

// payload is one hostile string. Payloads that run call
// bulwarkXSS(label), a function the test exposes to the page, so the test
// knows exactly which ones ran; the alert payload opens a dialog instead.
type payload struct {
	label string
	text  string
}

// hostilePayloads are stored in the database directly, each in every text
// field of its own order (item name, address fields, note, internal note),
// as data from an older version, an import or another writer would be:
// the API's validation refuses most of them in addresses, and this test is
// about the layer behind it, the rendering.
func hostilePayloads() []payload {
	return []payload{
		{"script", `<script>bulwarkXSS('script')</script>`},
		{"img-onerror", `<img src=x onerror=bulwarkXSS('img-onerror')>`},
		{"svg-onload", `<svg onload=bulwarkXSS('svg-onload')>`},
		{"attribute-breakout", `"><img src=x onerror=bulwarkXSS('attribute-breakout')>`},
		{"single-quote-breakout", `'><svg/onload=bulwarkXSS('single-quote-breakout')>`},
		{"mixed-case-script", `<ScRiPt>bulwarkXSS('mixed-case-script')</sCrIpT>`},
		{"mixed-case-img", `<IMG SRC=x OnErRoR=bulwarkXSS('mixed-case-img')>`},
		{"nested-script", `<scr<script></script>ipt>bulwarkXSS('nested-script')</scr<script></script>ipt>`},
		{"javascript-url", `<iframe src="javascript:parent.bulwarkXSS('javascript-url')"></iframe>`},
		{"details-ontoggle", `<details open ontoggle=bulwarkXSS('details-ontoggle')>`},
		{"entity-encoded", `&lt;img src=x onerror=bulwarkXSS('entity-encoded')&gt;`},
		{"hex-entity-encoded", `&#x3C;img src=x onerror=bulwarkXSS('hex-entity-encoded')&#x3E;`},
		{"alert", `<img src=x onerror=alert('bulwark-xss')>`},
	}
}

// Payloads that arrive through the API, which accepts markup in these
// free-text fields (it is legitimate text there; docs/07-nested-validation.md).
func customerNamePayload() payload {
	return payload{"customer-name-api", `<img src=x onerror=bulwarkXSS('customer-name-api')>`}
}

func notePayload() payload {
	return payload{"note-api", `<details open ontoggle=bulwarkXSS('note-api')>`}
}

// internalNotePayload is typed by the admin into the dashboard's own edit
// form and saved through PATCH /api/v1/admin/orders/{id}.
func internalNotePayload() payload {
	return payload{"internal-note-form", `<img src=x onerror=bulwarkXSS('internal-note-form')>`}
}

// dashboardVisit is what the browser saw.
type dashboardVisit struct {
	executed []string // labels of payloads that ran
	dialogs  []string // messages of JavaScript dialogs that opened
	text     string   // the page's innerText after rendering
	png      []byte   // a full-page screenshot
	browser  context.Context
}

func TestDashboardStoredXSS(t *testing.T) {
	browser := newBrowser(t)
	srv := startServer(t, nil)
	edit, all := plantHostileData(t, srv)
	visit := visitDashboard(t, browser, srv, edit)

	t.Run("no-payload-runs", func(t *testing.T) {
		if len(visit.executed) > 0 {
			t.Errorf("payloads ran in the dashboard: %v", visit.executed)
		}
		if len(visit.dialogs) > 0 {
			t.Errorf("JavaScript dialogs opened: %q", visit.dialogs)
		}
	})

	// Text rendering, independently of the CSP: every payload is on the
	// screen as the characters that were stored. Markup parsed as HTML
	// would not appear in innerText as its source, even where the CSP
	// stopped it from running.
	t.Run("payloads-shown-as-text", func(t *testing.T) {
		for _, p := range all {
			if !strings.Contains(visit.text, p.text) {
				t.Errorf("%s: the page does not show %q as text", p.label, p.text)
			}
		}
	})

	// Trusted Types: the page's CSP makes the HTML-parsing sinks throw, so
	// a future change that rendered a string with one would fail loudly.
	t.Run("trusted-types-refuse-html-sinks", func(t *testing.T) {
		got, err := chromedp.Run(visit.browser, chromedp.Evaluate[string](`(() => {
			const results = [];
			for (const sink of [
				(el) => { el.innerHTML = '<b>x</b>'; },
				(el) => { el.insertAdjacentHTML('beforeend', '<b>x</b>'); },
				(el) => { el.outerHTML = '<b>x</b>'; },
			]) {
				const el = document.createElement('div');
				document.body.append(el);
				try { sink(el); results.push('accepted'); } catch (e) { results.push(e.name); }
			}
			return results.join(',');
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		if got != "TypeError,TypeError,TypeError" {
			t.Errorf("innerHTML, insertAdjacentHTML, outerHTML with a string: %s, want TypeError for each (Trusted Types)", got)
		}
	})

	// The dashboard's own scripts contain no HTML-parsing sink at all. With
	// the browser check above, this makes a regression fail twice.
	t.Run("scripts-have-no-html-sinks", func(t *testing.T) {
		sink := regexp.MustCompile(`\.(inner|outer)HTML\b|insertAdjacentHTML|document\.write|createContextualFragment|DOMParser|\beval\s*\(|new Function|\.setAttribute\(\s*['"]on`)
		for _, name := range []string{"app.js", "render.js"} {
			body := httpGet(t, srv.URL+"/admin/"+name)
			if m := sink.FindString(body); m != "" {
				t.Errorf("/admin/%s uses %q", name, m)
			}
		}
	})

	saveScreenshot(t, "dashboard-xss.png", visit.png)
}

// newBrowser starts Debian's chromium, headless, for the test. Without one
// the test is skipped, except in CI, where it fails: .ci/run installs it.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	var path string
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("no chromium on PATH, and CI is set: the browser test must run in CI (.ci/run installs chromium)")
		}
		t.Skip("no chromium on PATH; install it to run the dashboard's browser test: apt-get install chromium")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.WindowSize(1600, 1000))
	// Chromium's sandbox cannot start as root, and CI runs as root. The
	// sandbox is switched off only then; the browser visits nothing but
	// this test's own server on loopback.
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first Run starts the browser; it must not carry a timeout (that
	// would stop the browser with it), so later steps set their own.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium at %s: %v", path, err)
	}
	return ctx
}

// plantHostileData stores the payloads: through the API where the API
// accepts them (a customer's name and note), and straight into the
// database for everything else. It returns the id of alice's order, whose
// internal note the admin will edit, and every payload the dashboard must
// show, the form's internal note included.
func plantHostileData(t *testing.T, srv *server) (string, []payload) {
	t.Helper()
	ctx := t.Context()
	name, note := customerNamePayload(), notePayload()
	alice := login(t, srv, srv.Target.Alice.Email)
	if status, body := alice.do(http.MethodPatch, "/api/v1/users/me", jsonString(t, map[string]string{"name": name.text})); status != http.StatusOK {
		t.Fatalf("rename alice: %d %v", status, body)
	}
	order := map[string]any{
		"items":            []any{map[string]any{"product_id": "9e000000-0000-4000-8000-000000000001", "quantity": 1}},
		"shipping_address": map[string]any{"name": "Alice Example", "line1": "1 Main Street", "city": "Springfield", "postal_code": "12345", "country": "US"},
		"note":             note.text,
	}
	status, created := alice.do(http.MethodPost, "/api/v1/orders", jsonString(t, order))
	if status != http.StatusCreated {
		t.Fatalf("alice's order with a hostile note: %d %v", status, created)
	}
	aliceOrder, _ := created["id"].(string)

	conn, err := pgx.Connect(ctx, srv.DatabaseURL)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	payloads := hostilePayloads()
	for _, p := range payloads {
		addr := jsonString(t, map[string]string{"name": p.text, "line1": p.text, "line2": p.text, "city": p.text, "postal_code": p.text, "country": p.text})
		// Bob owns them, and his name is made hostile below.
		_, err := conn.Exec(ctx, `
			WITH o AS (
				INSERT INTO orders (id, owner_id, status, total_cents, currency, shipping_address, note, internal_note)
				SELECT gen_random_uuid(), u.id, 'pending', 1299, 'EUR', $2::jsonb, $1, $1
				FROM users u WHERE u.email = 'bob@example.com'
				RETURNING id)
			INSERT INTO order_items (order_id, line, product_id, name, quantity, unit_price_cents)
			SELECT o.id, 1, p.id, $1, 1, 1299 FROM o, products p WHERE p.id = '9e000000-0000-4000-8000-000000000004'`,
			p.text, addr)
		if err != nil {
			t.Fatalf("store payload %s: %v", p.label, err)
		}
	}
	bobName := payload{"customer-name-db", `<ScRiPt>bulwarkXSS('customer-name-db')</ScRiPt>`}
	if _, err := conn.Exec(ctx, `UPDATE users SET name = $1 WHERE email = 'bob@example.com'`, bobName.text); err != nil {
		t.Fatalf("rename bob: %v", err)
	}
	return aliceOrder, append(payloads, name, note, bobName, internalNotePayload())
}

// visitDashboard signs in as the admin through the dashboard's form, waits
// for the orders, edits one order's internal note through the form,
// and reports what ran.
func visitDashboard(t *testing.T, browser context.Context, srv *server, editOrder string) dashboardVisit {
	t.Helper()
	var (
		mu    sync.Mutex
		visit = dashboardVisit{browser: browser}
	)
	// A dialog blocks the page until it is answered, so a goroutine records
	// and dismisses each one.
	dialogs := chromedp.Events(browser, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			mu.Lock()
			visit.dialogs = append(visit.dialogs, ev.Message)
			mu.Unlock()
			_, _ = chromedp.Call(browser, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	ran := chromedp.ExposeFunc("bulwarkXSS", func(_ context.Context, label string) (chromedp.Void, error) {
		mu.Lock()
		visit.executed = append(visit.executed, label)
		mu.Unlock()
		return chromedp.Void{}, nil
	})

	ctx, cancel := context.WithTimeout(browser, time.Minute)
	defer cancel()
	admin := srv.Target.Admin
	rows := len(hostilePayloads()) + 1 // the planted orders and alice's
	err := chromedp.Do(ctx,
		ran,
		chromedp.Navigate(srv.URL+"/admin/"),
		chromedp.WaitVisible(chromedp.CSS("#sign-in-form")),
		chromedp.SendKeys(chromedp.CSS("#email"), admin.Email),
		chromedp.SendKeys(chromedp.CSS("#password"), admin.Password),
		chromedp.Click(chromedp.CSS("#sign-in-button")),
		waitFor(`document.querySelectorAll('#orders-body tr').length >= `+strconv.Itoa(rows)),
		chromedp.Click(chromedp.CSS(`#orders-body tr[data-id="`+editOrder+`"] button`)),
		chromedp.WaitVisible(chromedp.CSS("#edit-note")),
		chromedp.SendKeys(chromedp.CSS("#edit-note"), internalNotePayload().text),
		chromedp.Click(chromedp.CSS("#edit-save")),
		waitFor(`document.getElementById('edit').hidden && document.getElementById('message').textContent.includes('saved')`),
		// The save shows up in the audit trail, the hostile note with it,
		// rendered as the text of its JSON.
		waitFor(`document.getElementById('audit-body').textContent.includes('order.update')`),
		// Event handlers fire once an image fails to load, so wait for
		// every image to settle, then give the calls time to reach Go.
		waitFor(`[...document.images].every((img) => img.complete)`),
		chromedp.Sleep(500*time.Millisecond),
	)
	if err != nil {
		// The page reports its own errors (a refused sign-in, a sink that
		// Trusted Types refused) in #message.
		shown, _ := chromedp.Run(browser, chromedp.Evaluate[string](`document.getElementById('message')?.textContent ?? ''`))
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("dashboard: %v; the page says %q (payloads that ran: %v, dialogs: %q)", err, shown, visit.executed, visit.dialogs)
	}
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	visit.text, visit.png = text, png
	visit.executed = slices.Clone(visit.executed)
	visit.dialogs = slices.Clone(visit.dialogs)
	slices.Sort(visit.executed)
	visit.executed = slices.Compact(visit.executed)
	t.Logf("payloads that ran: %v; dialogs: %q", visit.executed, visit.dialogs)
	return visit
}

// waitFor polls a JavaScript condition until it holds (10 s at most).
func waitFor(condition string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](condition, chromedp.WithPollingTimeout(10*time.Second))
}

// saveScreenshot writes png to $BULWARK_TEST_ARTIFACTS, or else to the
// test's temporary directory, and logs where.
func saveScreenshot(t *testing.T, name string, png []byte) {
	t.Helper()
	dir := os.Getenv("BULWARK_TEST_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return string(body)
}

func jsonString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
