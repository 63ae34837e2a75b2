package config_test

import (
	"strings"
	"testing"

	"github.com/bulwark-dev/bulwark/internal/config"
)

// Production with nothing set lists every refusal in one start, one line
// each, rather than one per run.
func TestProductionListsEveryProblemAtOnce(t *testing.T) {
	env := map[string]string{"APP_ENV": "production", "SEED_DEMO_DATA": "true", "JWT_SIGNING_KEYS": config.DevSigningKey}
	_, err := config.Load(func(k string) string { return env[k] })
	if err == nil {
		t.Fatal("production with development settings started")
	}
	lines := strings.Split(err.Error(), "\n")
	for _, want := range []string{"DATABASE_URL", "SEED_DEMO_DATA", "JWT_SIGNING_KEYS", "URL_SIGNING_KEYS"} {
		n := 0
		for _, l := range lines {
			if strings.Contains(l, want) {
				n++
			}
		}
		if n == 0 {
			t.Errorf("no line names %s:\n%s", want, err)
		}
	}
	if len(lines) < 4 {
		t.Errorf("%d lines, want one per problem (at least 4):\n%s", len(lines), err)
	}
}

func TestStartupFormsAreCheckedUpFront(t *testing.T) {
	for _, tc := range []struct {
		name          string
		env           map[string]string
		want, notWant string
	}{
		{"port alone", map[string]string{"HTTP_ADDR": "8080"}, `HTTP_ADDR must be host:port, such as 127.0.0.1:8080 or :8080, not "8080"`, ""},
		{"port out of range", map[string]string{"HTTP_ADDR": ":99999"}, "HTTP_ADDR must be host:port", ""},
		{"malformed database URL", map[string]string{"DATABASE_URL": "postgres//bulwark:hunter2-secret@db:5432/bulwark"},
			"DATABASE_URL is not a PostgreSQL connection URL; expected the form " + config.DatabaseURLExample, "hunter2"},
		{"database URL without host", map[string]string{"DATABASE_URL": "postgres://:hunter2-secret@/x"}, "DATABASE_URL is not", "hunter2"},
		{"every parse problem at once", map[string]string{"HTTP_ADDR": "8080", "ACCESS_TOKEN_TTL": "soon", "BODY_LIMIT_BYTES": "lots"}, "ACCESS_TOKEN_TTL", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Load(func(k string) string { return tc.env[k] })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load: %v, want it to say %q", err, tc.want)
			}
			if tc.notWant != "" && strings.Contains(err.Error(), tc.notWant) {
				t.Errorf("the error echoes the password: %v", err)
			}
		})
	}
	// Both parse problems, one line each.
	_, err := config.Load(func(k string) string {
		return map[string]string{"ACCESS_TOKEN_TTL": "soon", "BODY_LIMIT_BYTES": "lots"}[k]
	})
	if err == nil || !strings.Contains(err.Error(), "ACCESS_TOKEN_TTL") || !strings.Contains(err.Error(), "BODY_LIMIT_BYTES") {
		t.Errorf("two malformed settings: %v, want both named", err)
	}
}
