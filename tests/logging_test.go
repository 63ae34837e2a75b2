package tests

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// A session's worth of requests, failed ones included, must leave no
// password, token or Authorization header in the logs.
func TestLogsHoldNoSecrets(t *testing.T) {
	srv := startServer(t, nil)
	ctx := context.Background()
	post := func(path, body, token string) map[string]any {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Cookie", "session=cookie-secret-value")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		m := map[string]any{}
		_ = json.Unmarshal(b, &m)
		return m
	}
	tok := post("/api/v1/auth/login", `{"email":"alice@example.com","password":"alice-demo-password"}`, "")
	access, _ := tok["access_token"].(string)
	refresh, _ := tok["refresh_token"].(string)
	if access == "" || refresh == "" {
		t.Fatalf("login failed: %v", tok)
	}
	post("/api/v1/auth/login", `{"email":"alice@example.com","password":"wrong-password-secret-1"}`, "")
	post("/api/v1/auth/refresh", `{"refresh_token":"`+refresh+`"}`, access)
	post("/api/v1/auth/register", `{"email":"x@example.com","password":"register-password-secret","name":"X","role":"admin"}`, access)

	logs := srv.Logs()
	if !strings.Contains(logs, `"msg":"request"`) {
		t.Fatalf("no request log lines captured; the test would prove nothing:\n%s", logs)
	}
	for _, secret := range []string{"alice-demo-password", "wrong-password-secret-1", "register-password-secret", access, refresh, "cookie-secret-value", "Bearer"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q", secret[:min(len(secret), 24)])
		}
	}
}
