package outbound

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// NewAPIClient is the client for a partner the operator configured (the
// payment provider): the destination is not the customer's choice, so no
// address policy, but every other way a partner can hurt the service is
// bounded. TLS 1.2 or later with the system's roots; 2 s to connect and
// shake hands, timeout in all, headers capped; no proxy from the
// environment; and no redirects: a partner API that answers 3xx is
// misbehaving, and following it would send the request, credentials
// included, somewhere nobody configured.
func NewAPIClient(timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: 2 * time.Second}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:                  nil,
			DialContext:            dialer.DialContext,
			TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
			TLSHandshakeTimeout:    2 * time.Second,
			ResponseHeaderTimeout:  timeout,
			MaxResponseHeaderBytes: 16 << 10,
			MaxIdleConns:           8,
			IdleConnTimeout:        30 * time.Second,
			ForceAttemptHTTP2:      true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// ReadAll reads r to the end, failing with ErrTooLarge past limit bytes
// instead of holding whatever a partner chooses to send.
func ReadAll(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("more than %d bytes: %w", limit, ErrTooLarge)
	}
	return b, nil
}
