package redislimit_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-dev/bulwark/internal/web"
	"github.com/bulwark-dev/bulwark/internal/web/limitertest"
	"github.com/bulwark-dev/bulwark/internal/web/redislimit"
	"github.com/bulwark-dev/bulwark/internal/web/redislimit/redistest"
)

// The Redis limiter keeps the contract of the in-memory one, on one
// throwaway redis-server, emptied before each case.
func TestLimiterContract(t *testing.T) {
	client := redistest.Start(t).Client()
	limitertest.Run(t, func(t *testing.T) web.Limiter {
		t.Helper()
		if err := client.FlushDB(t.Context()).Err(); err != nil {
			t.Fatalf("FLUSHDB: %v", err)
		}
		return redislimit.New(client)
	})
}

// TestRedisLimiterHashesKeys: a Redis shared with other services must not
// hold a readable list of the emails and addresses being limited.
func TestRedisLimiterHashesKeys(t *testing.T) {
	client := redistest.Start(t).Client()
	l := redislimit.New(client)
	const email = "alice@example.com"
	ctx := context.Background()
	if _, err := l.Allow(ctx, "account:"+email, web.Policy{Name: "login-account", Burst: 5, Period: time.Minute}, 1); err != nil {
		t.Fatalf("Allow: %v", err)
	}
	backoff := web.BackoffPolicy{Name: "login-backoff", Free: 3, Base: time.Second, Max: time.Minute, Forget: time.Hour}
	if _, err := l.Attempt(ctx, "account:"+email+"|192.0.2.1", backoff); err != nil {
		t.Fatalf("Attempt: %v", err)
	}

	// Everything in the database: the test's Redis holds nothing else.
	keys, err := client.Keys(t.Context(), "*").Result()
	if err != nil {
		t.Fatalf("KEYS: %v", err)
	}
	if len(keys) != 2 {
		t.Fatalf("KEYS * = %q, want the 2 keys just written", keys)
	}
	// The policy name stays readable, for an operator; the key is a hash.
	hashed := regexp.MustCompile(`^bulwark:[a-z:-]+:[0-9a-f]{32}$`)
	for _, k := range keys {
		if !hashed.MatchString(k) {
			t.Errorf("key %q is not bulwark:…:<policy>:<hash>", k)
		}
		if strings.Contains(k, email) || strings.Contains(k, "192.0.2.1") {
			t.Errorf("key %q holds the plain identity", k)
		}
	}
}
