//go:build !race

package auth_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/bulwark-dev/bulwark/internal/auth"
)

// tokenCheckAllocBudget is what the middleware's token check (Check)
// allocated when it was last tuned (13, docs/performance.md), plus a small
// margin for a Go release that moves an allocation. It was 68 with
// golang-jwt's parser. An allocation count is a budget CI can hold on any
// machine, unlike a timing; the race detector changes the counts, hence the
// build tag.
const tokenCheckAllocBudget = 15

func TestTokenCheckAllocationBudget(t *testing.T) {
	tk := newTokens(t, randomKey(t, "k1"))
	raw, err := tk.Issue(auth.Grant{UserID: uuid.New(), Role: "user", Session: uuid.New(), Version: 3})
	if err != nil {
		t.Fatal(err)
	}
	got := testing.AllocsPerRun(200, func() {
		if _, err := tk.Check(raw); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("token check allocates %.0f times (budget %d)", got, tokenCheckAllocBudget)
	if got > tokenCheckAllocBudget {
		t.Errorf("token check allocates %.0f times, budget %d: a change made the check on every request costlier (docs/performance.md)", got, tokenCheckAllocBudget)
	}
}
