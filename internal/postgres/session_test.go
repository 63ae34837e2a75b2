package postgres_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/bulwark-dev/bulwark/internal/postgres"
)

// session is a live sign-in of alice's: a refresh family of hers, at her
// current token version (0).
func (f fixture) session(t *testing.T) uuid.UUID {
	t.Helper()
	family := uuid.New()
	admin := open(t, f.db.Admin, postgres.Options{})
	if _, err := admin.Exec(t.Context(), `INSERT INTO refresh_tokens (token_hash, user_id, family_id, expires_at)
		VALUES (sha256($1::bytea), $2, $3, now() + interval '1 hour')`, family[:], f.alice, family); err != nil {
		t.Fatal(err)
	}
	return family
}

// A statement of an identity in a session runs only while the session is
// live: a revoked family, a newer token version and a deleted user each
// refuse it with BW401 (ErrSessionEnded), before it runs. An identity
// without a session is not checked.
func TestIdentityInSessionRunsOnlyWhileItIsLive(t *testing.T) {
	cases := []struct {
		name    string
		end     string // run as the superuser, $1 alice, $2 the family
		version int32  // the token's
		ended   bool
	}{
		{"live", ``, 0, false},
		{"family revoked", `UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $2 AND user_id = $1`, 0, true},
		{"another family revoked", `UPDATE refresh_tokens SET revoked_at = now() WHERE family_id <> $2 AND user_id = $1`, 0, false},
		{"token version bumped", `UPDATE users SET token_version = token_version + 1 WHERE id = $1 AND $2::uuid IS NOT NULL`, 0, true},
		{"token older than the version", ``, -1, true},
		{"user deleted", `DELETE FROM users WHERE id = $1 AND $2::uuid IS NOT NULL`, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			family := f.session(t)
			if tc.end != "" {
				admin := open(t, f.db.Admin, postgres.Options{})
				if _, err := admin.Exec(t.Context(), tc.end, f.alice, family); err != nil {
					t.Fatal(err)
				}
			}
			db := postgres.Scoped(f.service)
			inSession := postgres.WithIdentity(t.Context(), postgres.Customer(f.alice).InSession(family, tc.version))
			rows, err := db.Query(inSession, `SELECT id FROM orders`)
			var got []uuid.UUID
			if err == nil {
				got, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
			}
			if !tc.ended {
				if err != nil || !slices.Equal(got, []uuid.UUID{f.aliceOrder}) {
					t.Fatalf("live session: %v, %v; want alice's order", got, err)
				}
				return
			}
			var pgErr *pgconn.PgError
			if !errors.Is(err, postgres.ErrSessionEnded) || !errors.As(err, &pgErr) || pgErr.Code != "BW401" {
				t.Fatalf("ended session: %v, %v; want ErrSessionEnded (BW401)", got, err)
			}
			// The same through QueryRow, Exec and a transaction.
			if err := db.QueryRow(inSession, `SELECT 1`).Scan(new(int)); !errors.Is(err, postgres.ErrSessionEnded) {
				t.Errorf("QueryRow: %v, want ErrSessionEnded", err)
			}
			if _, err := db.Exec(inSession, `UPDATE orders SET note = 'x'`); !errors.Is(err, postgres.ErrSessionEnded) {
				t.Errorf("Exec: %v, want ErrSessionEnded", err)
			}
			err = postgres.WithTx(inSession, f.service, func(tx pgx.Tx) error {
				_, err := tx.Exec(inSession, `UPDATE orders SET note = 'x'`)
				return err
			})
			if !errors.Is(err, postgres.ErrSessionEnded) {
				t.Errorf("in a transaction: %v, want ErrSessionEnded", err)
			}
			// An identity without a session is not checked (the row-level
			// security tests and the workshop use such identities), unless
			// the user is gone, when it simply owns nothing.
			plain := postgres.WithIdentity(t.Context(), postgres.Customer(f.alice))
			if _, err := db.Exec(plain, `SELECT 1`); err != nil {
				t.Errorf("an identity without a session: %v", err)
			}
		})
	}
}

// RequireLiveSession checks the session alone when no statement has yet,
// and costs nothing once one has: what a request calls before it acts
// outside the database.
func TestRequireLiveSession(t *testing.T) {
	f := newFixture(t)
	family := f.session(t)
	admin := open(t, f.db.Admin, postgres.Options{})
	db := postgres.Scoped(f.service)
	request := func() context.Context {
		return postgres.WithIdentity(t.Context(), postgres.Customer(f.alice).InSession(family, 0))
	}

	if err := postgres.RequireLiveSession(t.Context(), f.service); err != nil {
		t.Errorf("no identity: %v, want nil", err)
	}
	if err := postgres.RequireLiveSession(postgres.WithIdentity(t.Context(), postgres.SignIn()), f.service); err != nil {
		t.Errorf("an identity without a session: %v, want nil", err)
	}
	if err := postgres.RequireLiveSession(request(), f.service); err != nil {
		t.Errorf("live session: %v, want nil", err)
	}
	// A request whose statement passed the check is not checked again: it
	// was live when it began.
	checked := request()
	if _, err := db.Exec(checked, `SELECT 1`); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(t.Context(), `UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1`, family); err != nil {
		t.Fatal(err)
	}
	if err := postgres.RequireLiveSession(checked, f.service); err != nil {
		t.Errorf("after a statement passed the check: %v, want nil (no second round trip)", err)
	}
	// A request that has run no statement is checked now.
	if err := postgres.RequireLiveSession(request(), f.service); !errors.Is(err, postgres.ErrSessionEnded) {
		t.Errorf("revoked session, no statement yet: %v, want ErrSessionEnded", err)
	}
}

// The session check leaves nothing behind on the connection, passed or
// failed: the next user of a pool of one carries no identity.
func TestSessionCheckLeavesNoIdentity(t *testing.T) {
	f := newFixture(t)
	family := f.session(t)
	one := open(t, withPoolSize(t, f.db.Service, 1), postgres.Options{})
	db := postgres.Scoped(one)
	for _, version := range []int32{0, 1} { // live, then stale
		ctx := postgres.WithIdentity(t.Context(), postgres.Customer(f.alice).InSession(family, version))
		_, _ = db.Exec(ctx, `SELECT 1`)
		var user, scope string
		err := one.QueryRow(t.Context(), `SELECT coalesce(current_setting('bulwark.user_id', true), ''), coalesce(current_setting('bulwark.scope', true), '')`).Scan(&user, &scope)
		if err != nil {
			t.Fatal(err)
		}
		if user != "" || scope != "" {
			t.Errorf("version %d: the connection still carries user %q, scope %q", version, user, scope)
		}
	}
}

// Inside a request's enclosing transaction (the idempotency middleware's,
// Enclose), RequireLiveSession checks on that transaction's connection:
// with a pool of one, waiting for a second would never end.
func TestRequireLiveSessionJoinsTheEnclosingTransaction(t *testing.T) {
	f := newFixture(t)
	live, revoked := f.session(t), f.session(t)
	admin := open(t, f.db.Admin, postgres.Options{})
	if _, err := admin.Exec(t.Context(), `UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1`, revoked); err != nil {
		t.Fatal(err)
	}
	one := open(t, withPoolSize(t, f.db.Service, 1), postgres.Options{})
	for _, tc := range []struct {
		name   string
		family uuid.UUID
		want   error
	}{{"live", live, nil}, {"revoked", revoked, postgres.ErrSessionEnded}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			ctx = postgres.WithIdentity(ctx, postgres.Customer(f.alice).InSession(tc.family, 0))
			tx, err := one.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = tx.Rollback(context.Background()) }()
			if err := postgres.RequireLiveSession(postgres.Enclose(ctx, tx), one); !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
}
