package postgres_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/bulwark-dev/bulwark/internal/postgres"
)

// A server that accepts connections and never answers must not hold a
// caller without a deadline forever: the connection attempt gives up by
// itself, and the failure reads as the database being unavailable (503).
func TestOpenGivesUpOnASilentServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 16)
	t.Cleanup(func() {
		_ = ln.Close()
		for {
			select {
			case conn := <-accepted:
				_ = conn.Close()
			default:
				return
			}
		}
	})
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- conn // held open, never answered
		}
	}()

	start := time.Now()
	// context.Background: no deadline from the caller, as for a transfer's
	// lookups. Open's own ping allows 10 s; the connect timeout is shorter.
	_, err = postgres.Open(context.Background(), "postgres://nobody@"+ln.Addr().String()+"/x?sslmode=disable", postgres.Options{})
	elapsed := time.Since(start)
	if err == nil {
		t.Fatal("Open succeeded against a server that never answers")
	}
	if elapsed > 8*time.Second {
		t.Errorf("Open gave up after %s; want the connect timeout (5 s) to end it", elapsed.Round(time.Millisecond))
	}
	if !postgres.Unavailable(err) {
		t.Errorf("a connect timeout is not classified as unavailable: %v", err)
	}
}
