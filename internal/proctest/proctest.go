// Package proctest holds what the tests that start a real server process
// on loopback (redis-server, versitygw) share: a free port to give it, and
// the end of its log when it does not come up.
package proctest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"testing"
)

// FreePort asks the kernel for a free port on 127.0.0.1. The listener is
// closed before the server binds, so the port can be lost in between; the
// callers retry a start on another port.
func FreePort(t testing.TB) int {
	t.Helper()
	var lc net.ListenConfig
	l, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	return port
}

// LogTail is the last ten lines of a server's log, where the reason for a
// failed start-up is (an address in use, a bad option).
func LogTail(path string) string {
	data, err := os.ReadFile(path) //nolint:gosec // G304: the test's own temporary directory.
	if err != nil {
		return fmt.Sprintf("(server log unreadable: %v)", err)
	}
	lines := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	if len(lines) > 10 {
		lines = lines[len(lines)-10:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
