package app

import (
	"io"
	"log/slog"
	"strings"
)

// NewLogger returns the JSON logger of the service. Handlers log allowlisted
// fields only (web.RequestLogger); this filter is the second line: any
// attribute whose key names a secret is masked wherever it comes from.
func NewLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level)) // config already validated the level.
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: l,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if isSecretKey(a.Key) {
				return slog.String(a.Key, "[REDACTED]")
			}
			return a
		},
	}))
}

func isSecretKey(key string) bool {
	k := strings.ToLower(key)
	for _, s := range []string{"authorization", "cookie", "password", "token", "secret", "signature"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}
