package attack

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// Isolation: many attacks against one server (make demo, the workshop
// console) without each paying for the others. The server limits per client
// address (internal/web/clientip.go keys on the TCP peer), per account
// (failed logins) and per user (the authenticated API), so an attack that
// shares any of these with the attacks before it either waits for the
// limit to refill or gets a 429 that says nothing about the defence it
// tests. An isolated attack therefore speaks from its own loopback address
// (Linux routes all of 127.0.0.0/8 to the loopback interface, so any of
// its addresses can be a connection's source) and, unless it needs the
// seeded data, as customers registered for it alone. The rate-limit
// attacks still meet every real limit: theirs is simply untouched.
//
// It also keeps the demo accounts as they were seeded: the attacks that
// rename a user, create orders or guess passwords do it to their own
// customers, so signing in as alice after a run works at once and shows
// alice's own data.

// Sources hands out loopback source addresses, one per attack, from
// 127.64.0.0/10: far from 127.0.0.1 (the server, the demo's clients) and
// 127.0.0.2 (the SSRF lab's stand-in for a public host). Each Sources
// starts at a random point of the space, because the server remembers
// every address's limits for a while: a second run that began where the
// first one did would inherit its spent allowances.
type Sources struct {
	start atomic.Uint32 // 0 until the first Next picks it
	next  atomic.Uint32
}

// sourceSpace is how many addresses 127.64.0.0/10 has, less its first and
// last.
const sourceSpace = 1<<22 - 2

// Next returns an address no earlier call returned (until the space of
// four million wraps around, long after any limit window has passed).
func (s *Sources) Next() netip.Addr {
	if s.start.Load() == 0 {
		var b [4]byte
		_, _ = rand.Read(b[:])
		s.start.CompareAndSwap(0, uint32(b[0])<<16|uint32(b[1])<<8|uint32(b[2])|1)
	}
	n := (s.start.Load()+s.next.Add(1))%sourceSpace + 1
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], 127<<24|64<<16+n) // 127.64.0.0 + n, n < 2^22
	return netip.AddrFrom4(a)
}

// SourceClient returns an HTTP client whose connections leave from src.
// Each client has its own transport, so no pooled connection from another
// address is ever reused for it.
func SourceClient(src netip.Addr, timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IP(src.AsSlice())}}
	transport := &http.Transport{
		DialContext:         dialer.DialContext,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     30 * time.Second,
	}
	return &http.Client{Timeout: timeout, Transport: transport}
}

// CanIsolate reports whether attacks on target can speak from their own
// source addresses: the target must be a loopback address (a source on
// this machine's loopback reaches nothing else), and binding such a source
// must work here. The reason says why not, in one line.
func CanIsolate(ctx context.Context, baseURL string, sources *Sources) (bool, string) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return false, fmt.Sprintf("the target %q is not a URL", baseURL)
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err != nil || !ip.Is4() || !ip.IsLoopback() {
		return false, fmt.Sprintf("the target %s is not an IPv4 loopback address, so the attacks cannot each speak from their own", host)
	}
	src := sources.Next()
	client := SourceClient(src, 5*time.Second)
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(baseURL, "/")+"/healthz", nil)
	if err != nil {
		return false, err.Error()
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, fmt.Sprintf("a request from the source address %s failed (%v)", src, err)
	}
	_ = resp.Body.Close()
	return true, ""
}

// ForAttack returns a copy of t for one attack of an isolated run: its
// requests leave from src, and alice and bob are customers registered for
// it alone, unless the attack reads the seeded data (Attack.Seeded). The
// admin stays the demo admin: attacks only ever sign in as the admin
// successfully, which spends no login allowance.
func (t *Target) ForAttack(a Attack, src netip.Addr) *Target {
	c := &Target{
		BaseURL: t.BaseURL, HTTP: SourceClient(src, t.timeout()),
		Alice: t.Alice, Bob: t.Bob, Admin: t.Admin, Ops: t.Ops,
		SigningKeyID: t.SigningKeyID, SigningKey: t.SigningKey, Canary: t.Canary,
		SSRF: t.SSRF, Webhook: t.Webhook, NewStaff: t.NewStaff,
		// Pacing stays on as a safety net; an isolated attack has whole
		// allowances, so it has nothing to wait for.
		Pace:     t.Pace,
		isolated: true,
		staff:    t.staffCache(),
	}
	if a.Seeded {
		c.own = FreshAccount("carol")
	} else {
		c.Alice, c.Bob = FreshAccount("alice"), FreshAccount("bob")
	}
	if t.NewStaff != nil {
		c.Admin = FreshAccount("admin")
		c.Admin.Staff = true
	}
	return c
}

// ownCustomer is the customer a Seeded attack places and changes orders
// as: alice herself when the server is the attack's alone (a test's fresh
// server), a customer of the attack's own in an isolated run.
func (t *Target) ownCustomer() Account {
	if t.own.Email != "" {
		return t.own
	}
	return t.Alice
}

func (t *Target) timeout() time.Duration {
	if t.HTTP != nil && t.HTTP.Timeout > 0 {
		return t.HTTP.Timeout
	}
	return 15 * time.Second
}

// FreshAccount returns a customer that does not exist yet: a unique email
// and a random password. It is registered the first time an attack signs
// in as it or guesses at it (Target.ensure).
func FreshAccount(label string) Account {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	id := fmt.Sprintf("%x", b)
	return Account{
		Email:    fmt.Sprintf("%s-%s@attack.example", label, id[:12]),
		Password: "pw-" + id,
		Name:     strings.ToUpper(label[:1]) + label[1:] + " Attacker",
		Register: true,
	}
}

// ensure registers a fresh account (Account.Register) once, or has a
// fresh admin made (Target.NewStaff); the demo accounts exist already.
func (t *Target) ensure(ctx context.Context, a Account) error {
	if !a.Register {
		return nil
	}
	t.mu.Lock()
	done := t.registered[a.Email]
	t.mu.Unlock()
	if done {
		return nil
	}
	if a.Staff {
		if t.NewStaff == nil {
			return fmt.Errorf("the attack's own admin %s: this runner cannot create admins", a.Email)
		}
		if err := t.NewStaff(ctx, a); err != nil {
			return fmt.Errorf("create the attack's own admin %s: %w", a.Email, err)
		}
	} else {
		body, err := json.Marshal(map[string]string{"email": a.Email, "password": a.Password, "name": a.Name})
		if err != nil {
			return fmt.Errorf("encode registration: %w", err)
		}
		x, err := t.send(ctx, request{method: http.MethodPost, path: "/api/v1/auth/register", body: string(body)})
		if err != nil {
			return err
		}
		if x.status != http.StatusCreated {
			return fmt.Errorf("register the attack's own account %s: %s", a.Email, x)
		}
	}
	t.mu.Lock()
	if t.registered == nil {
		t.registered = map[string]bool{}
	}
	t.registered[a.Email] = true
	t.mu.Unlock()
	return nil
}
