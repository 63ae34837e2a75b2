//go:build !race

package auth_test

import (
	"testing"

	"github.com/google/uuid"
)

// tokenCheckAllocBudget is what the middleware's token check (Subject)
// allocated when it was last tuned (13, docs/performance.md), plus a small
// margin for a Go release that moves an allocation. It was 68 with
// golang-jwt's parser. An allocation count is a budget CI can hold on any
// machine, unlike a timing; the race detector changes the counts, hence the
// build tag.
const tokenCheckAllocBudget = 15

func TestTokenCheckAllocationBudget(t *testing.T) {
	tk := newTokens(t, randomKey(t, "k1"))
	raw, err := tk.Issue(uuid.New(), "user")
	if err != nil {
		t.Fatal(err)
	}
	got := testing.AllocsPerRun(200, func() {
		if _, err := tk.Subject(raw); err != nil {
			t.Fatal(err)
		}
	})
	if got > tokenCheckAllocBudget {
		t.Errorf("token check allocates %.0f times, budget %d: a change made the check on every request costlier (docs/performance.md)", got, tokenCheckAllocBudget)
	}
}
