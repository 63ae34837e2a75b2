package tests

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// Slow clients cannot tie the service up: headers trickled a line at a time
// (slowloris), a body trickled a byte at a time and idle keep-alive
// connections are all closed by the server within their timeouts, and
// while they hang on, a normal request is answered at once.
func TestSlowClientsAreCutOff(t *testing.T) {
	const (
		headerTimeout = time.Second
		readTimeout   = 2 * time.Second
		idleTimeout   = time.Second
		slack         = time.Second // a busy 2-core machine closes late, not never
	)
	srv := startServer(t, map[string]string{
		"HTTP_READ_HEADER_TIMEOUT": headerTimeout.String(),
		"HTTP_READ_TIMEOUT":        readTimeout.String(),
		"HTTP_IDLE_TIMEOUT":        idleTimeout.String(),
	})
	addr := strings.TrimPrefix(srv.URL, "http://")

	type closed struct {
		kind  string
		after time.Duration
		reply string
	}
	results := make(chan closed, 64)
	var wg sync.WaitGroup

	// slowloris: a request line, then one more header line every 200 ms;
	// the headers never end.
	const loris = 30
	for i := range loris {
		wg.Go(func() {
			conn := dial(t, addr)
			start := time.Now()
			stopTrickle := make(chan struct{})
			go func() {
				_, _ = fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: %s\r\n", addr)
				for n := 0; ; n++ {
					select {
					case <-stopTrickle:
						return
					case <-time.After(200 * time.Millisecond):
					}
					if _, err := fmt.Fprintf(conn, "X-Loris-%d-%d: x\r\n", i, n); err != nil {
						return
					}
				}
			}()
			reply := readUntilClosed(conn, headerTimeout+readTimeout+5*time.Second)
			close(stopTrickle)
			results <- closed{kind: "slowloris headers", after: time.Since(start), reply: reply}
		})
	}
	// A trickled body: complete headers promising 200 bytes, then a byte
	// every 100 ms.
	const tricklers = 4
	for range tricklers {
		wg.Go(func() {
			conn := dial(t, addr)
			start := time.Now()
			stopTrickle := make(chan struct{})
			go func() {
				_, _ = fmt.Fprintf(conn, "POST /api/v1/auth/login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{", addr)
				for {
					select {
					case <-stopTrickle:
						return
					case <-time.After(100 * time.Millisecond):
					}
					if _, err := conn.Write([]byte(" ")); err != nil {
						return
					}
				}
			}()
			reply := readUntilClosed(conn, readTimeout+5*time.Second)
			close(stopTrickle)
			results <- closed{kind: "trickled body", after: time.Since(start), reply: reply}
		})
	}
	// An idle keep-alive connection after one complete request.
	wg.Go(func() {
		conn := dial(t, addr)
		_, _ = fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
		start := time.Now()
		reply := readUntilClosed(conn, idleTimeout+5*time.Second)
		results <- closed{kind: "idle keep-alive", after: time.Since(start), reply: reply}
	})

	// While they all hang on, ordinary requests are answered at once.
	time.Sleep(headerTimeout / 2)
	for _, path := range []string{"/healthz", "/readyz"} {
		o := call(context.Background(), &http.Client{Timeout: 5 * time.Second}, http.MethodGet, srv.URL+path, "", "", "")
		if o.status != http.StatusOK || o.elapsed > 500*time.Millisecond {
			t.Errorf("GET %s while slow clients hang on: %v; want a prompt 200", path, o)
		}
	}

	wg.Wait()
	close(results)
	limit := map[string]time.Duration{
		"slowloris headers": headerTimeout + slack,
		"trickled body":     readTimeout + slack,
		"idle keep-alive":   idleTimeout + slack,
	}
	seen := map[string]int{}
	replies := map[string]bool{}
	for r := range results {
		seen[r.kind]++
		replies[r.kind+": "+statusLine(r.reply)] = true
		if r.after > limit[r.kind] {
			t.Errorf("%s: the server closed the connection after %v; want within %v", r.kind, r.after.Round(time.Millisecond), limit[r.kind])
		}
		status := statusLine(r.reply)
		switch r.kind {
		case "slowloris headers":
			// No handler ever ran: nothing, or the server's own 4xx.
			if status != "" && !strings.Contains(status, " 4") {
				t.Errorf("slowloris connection got %q", status)
			}
		case "trickled body":
			if strings.Contains(status, " 2") || strings.Contains(status, " 500") {
				t.Errorf("trickled body got %q; want the request refused", status)
			}
		case "idle keep-alive":
			if !strings.Contains(status, " 200") {
				t.Errorf("keep-alive request got %q; want 200 before the idle close", status)
			}
		}
	}
	t.Logf("closed by the server: %v; replies: %v", seen, replies)
	if seen["slowloris headers"] != loris || seen["trickled body"] != tricklers || seen["idle keep-alive"] != 1 {
		t.Errorf("connections accounted for: %v", seen)
	}
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	var d net.Dialer
	conn, err := d.DialContext(t.Context(), "tcp", addr)
	if err != nil {
		t.Error(err)
		return nil
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// readUntilClosed reads what the server sends until it closes the
// connection, or gives up after limit (then the caller sees the elapsed
// time exceed its bound).
func readUntilClosed(conn net.Conn, limit time.Duration) string {
	if conn == nil {
		return ""
	}
	_ = conn.SetReadDeadline(time.Now().Add(limit))
	b, _ := io.ReadAll(conn)
	return string(b)
}

// statusLine is the first line of a raw HTTP response, or "".
func statusLine(raw string) string {
	line, _, _ := strings.Cut(raw, "\r\n")
	return line
}

// A body trickled slowly enough to stay inside HTTP_READ_TIMEOUT is still
// cut off at REQUEST_TIMEOUT: the request holds a load-shedding slot while
// its body is read, so the body read must end with the request, or a few
// accounts trickling bodies could hold every slot (web.Deadline).
func TestTrickledBodyEndsWithTheRequestDeadline(t *testing.T) {
	const (
		requestTimeout = time.Second
		readTimeout    = 30 * time.Second
		bound          = 4 * time.Second // the deadline, the read grace, a busy machine's slack
	)
	srv := startServer(t, map[string]string{
		"REQUEST_TIMEOUT":   requestTimeout.String(),
		"HTTP_READ_TIMEOUT": readTimeout.String(),
	})
	addr := strings.TrimPrefix(srv.URL, "http://")
	tok, err := srv.Target.Login(t.Context(), srv.Target.Alice)
	if err != nil {
		t.Fatal(err)
	}
	conn := dial(t, addr)
	start := time.Now()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		_, _ = fmt.Fprintf(conn, "PATCH /api/v1/users/me HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"+
			"Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{", addr, tok)
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			if _, err := conn.Write([]byte(" ")); err != nil {
				return
			}
		}
	}()
	reply := readUntilClosed(conn, readTimeout)
	after := time.Since(start)
	if after > bound {
		t.Errorf("the trickled body held its request for %s; want it cut off within %s of a %s request deadline (reply %q)",
			after.Round(time.Millisecond), bound, requestTimeout, statusLine(reply))
	}
	if status := statusLine(reply); strings.Contains(status, " 2") || strings.Contains(status, " 500") {
		t.Errorf("trickled body got %q; want it refused, not served or failed", status)
	}
	t.Logf("cut off after %s with %q", after.Round(time.Millisecond), statusLine(reply))
}
