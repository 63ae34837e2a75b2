package tests

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// A token whose session has ended causes nothing outside the database
// either: its upload stores no object, its import fetches nothing, its
// payment reaches no provider. Each gets the same 401 as on any other
// route, and so does a path no route serves. A live session of the same account, sent the same requests
// after it, does each of them, so the test sees every effect it counts.
func TestEndedSessionCausesNoEffects(t *testing.T) {
	var fetched atomic.Int64
	remote := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetched.Add(1)
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("an imported file\n"))
	}))
	t.Cleanup(remote.Close)
	host := remote.Listener.Addr().(*net.TCPAddr).String()
	st := startPayStage(t, map[string]string{
		"IMPORT_ALLOW_HTTP":  "true",
		"IMPORT_ALLOW_HOSTS": host,
		"IMPORT_DNS_SERVER":  startDNS(t, nil).Addr,
	})
	srv := st.srv
	order, _ := st.order(t, "small")
	alice := srv.Target.Alice
	ended := signIn(t, srv.URL, alice.Email, alice.Password)
	if s := jsonCall(t, srv.URL, http.MethodPost, "/api/v1/auth/logout", "", map[string]string{"refresh_token": ended.Refresh}, nil); s != http.StatusNoContent {
		t.Fatalf("logout: %d", s)
	}

	type effects struct {
		objects  []string
		fetches  int64
		payments int
	}
	now := func() effects {
		return effects{storedObjects(t, srv.StorageDir), fetched.Load(), len(st.provider.Payments())}
	}
	try := func(token string) (uploaded, imported, paid int) {
		uploaded, _ = upload(t, srv.URL, token, order, []byte("a note\n"))
		imported = jsonCall(t, srv.URL, http.MethodPost, "/api/v1/orders/"+order+"/files/import", token, map[string]string{"url": remote.URL + "/note.txt"}, nil)
		paid = jsonCall(t, srv.URL, http.MethodPost, "/api/v1/orders/"+order+"/pay", token, nil, nil)
		return uploaded, imported, paid
	}

	before := now()
	if u, i, p := try(ended.Access); u != http.StatusUnauthorized || i != http.StatusUnauthorized || p != http.StatusUnauthorized {
		t.Errorf("ended session: upload %d, import %d, pay %d; want 401 each", u, i, p)
	}
	after := now()
	if !slices.Equal(after.objects, before.objects) || after.fetches != before.fetches || after.payments != before.payments {
		t.Errorf("ended session: objects %v → %v, fetches %d → %d, payments %d → %d; want no change",
			before.objects, after.objects, before.fetches, after.fetches, before.payments, after.payments)
	}

	// A path no route serves runs no statement; it checks the session
	// alone, so the ended token learns nothing there either.
	if s := jsonCall(t, srv.URL, http.MethodGet, "/api/v1/no-such-path", ended.Access, nil, nil); s != http.StatusUnauthorized {
		t.Errorf("ended session on an unknown path: %d, want 401", s)
	}

	// The same 401 as a token that fails its signature: header and body.
	for _, token := range []string{ended.Access, ended.Access + "x"} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/api/v1/users/me", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var problem struct{ Detail string }
		_ = json.NewDecoder(resp.Body).Decode(&problem)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != `Bearer realm="bulwark"` ||
			problem.Detail != "A valid access token is required." {
			t.Errorf("GET /users/me: %d, WWW-Authenticate %q, detail %q; want the one 401 of every refused token",
				resp.StatusCode, resp.Header.Get("WWW-Authenticate"), problem.Detail)
		}
	}
	// One token_rejected event, reason session_ended, per refused request:
	// upload, import, pay, the unknown path and /users/me.
	ended401 := func() int {
		n := 0
		for _, ev := range securityEvents(srv) {
			if ev.Kind == "token_rejected" && ev.Reason == "session_ended" {
				n++
			}
		}
		return n
	}
	if !eventually(5*time.Second, func() bool { return ended401() >= 5 }) || ended401() != 5 {
		t.Errorf("%d token_rejected events with reason session_ended, want 5 (one per refused request)", ended401())
	}

	live := signIn(t, srv.URL, alice.Email, alice.Password)
	if s := jsonCall(t, srv.URL, http.MethodGet, "/api/v1/no-such-path", live.Access, nil, nil); s != http.StatusNotFound {
		t.Errorf("control, a live session on an unknown path: %d, want 404", s)
	}
	if u, i, p := try(live.Access); u != http.StatusCreated || i != http.StatusCreated || p != http.StatusCreated {
		t.Fatalf("control, a live session: upload %d, import %d, pay %d; want 201 each", u, i, p)
	}
	control := now()
	if len(control.objects) != len(after.objects)+2 || control.fetches != after.fetches+1 || control.payments != after.payments+1 {
		t.Errorf("control, a live session: %d objects, %d fetches, %d payments more; want 2, 1, 1",
			len(control.objects)-len(after.objects), control.fetches-after.fetches, control.payments-after.payments)
	}
}
