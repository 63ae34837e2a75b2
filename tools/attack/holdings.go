package attack

import (
	"context"
	"fmt"
	"net/http"
)

// holdings are the orders the file and cursor attacks work on: two of
// alice's and one of bob's, each carrying one text file. The demo
// accounts have them from the seed (internal/seed); the customers of an
// isolated run (ForAttack) get the same through the API, the first time an
// attack asks, so these attacks need not borrow the demo accounts, whose
// per-user limit they would spend and whose data they would touch.
type holdings struct {
	alice, aliceOther, bob string // order ids
}

func (t *Target) holdings(ctx context.Context) (holdings, error) {
	if !t.Alice.Register && !t.Bob.Register {
		return holdings{alice: seededAliceOrder, aliceOther: seededAliceOtherOrder, bob: seededBobOrder}, nil
	}
	t.mu.Lock()
	h := t.held
	t.mu.Unlock()
	if h != nil {
		return *h, nil
	}
	alice, err := t.login(ctx, t.Alice)
	if err != nil {
		return holdings{}, err
	}
	bob, err := t.login(ctx, t.Bob)
	if err != nil {
		return holdings{}, err
	}
	var ids []string
	for _, owner := range []struct{ token, note string }{
		{alice.AccessToken, "alice's first order"}, {alice.AccessToken, "alice's second order"}, {bob.AccessToken, "bob's order"},
	} {
		o, err := t.createOrder(ctx, owner.token, owner.note)
		if err != nil {
			return holdings{}, err
		}
		x, _, err := t.upload(ctx, owner.token, o.ID, fileDisposition("receipt.txt"), "text/plain", "a receipt for "+owner.note+"\n")
		if err != nil {
			return holdings{}, err
		}
		if x.status != http.StatusCreated {
			return holdings{}, fmt.Errorf("control: upload to the attack's own order failed: %s", x)
		}
		ids = append(ids, o.ID)
	}
	h = &holdings{alice: ids[0], aliceOther: ids[1], bob: ids[2]}
	t.mu.Lock()
	t.held = h
	t.mu.Unlock()
	return *h, nil
}
