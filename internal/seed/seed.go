// Package seed loads the demo data of the development environment: three
// accounts with published passwords, a small catalogue and a few orders.
// The api command refuses to run it in production.
package seed

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bulwark-dev/bulwark/internal/auth"
	"github.com/bulwark-dev/bulwark/internal/db"
	"github.com/bulwark-dev/bulwark/internal/files"
	"github.com/bulwark-dev/bulwark/internal/postgres"
)

// Account is one demo login.
type Account struct {
	ID       uuid.UUID
	Email    string
	Password string
	Name     string
	Role     string
	// TOTPSecret, when set, is the account's confirmed second factor.
	TOTPSecret string
}

// DevTOTPSecret is the published second factor of the demo staff account
// ops@example.com (RFC 4648 base32 of "Hello!\xde\xad\xbe\xef", twice, the
// example secret of many TOTP guides). Like the demo passwords it is
// public, so production refuses to seed. The attack catalogue computes
// codes from it to sign in and step up as staff (tools/attack).
const DevTOTPSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP" //nolint:gosec // published on purpose, like the demo passwords; production refuses to seed.

// Accounts are the demo logins. Their passwords are public (README), which
// is why production refuses to seed.
func Accounts() []Account {
	return []Account{
		{ID: uuid.MustParse("a11ce000-0000-4000-8000-000000000001"), Email: "alice@example.com", Password: "alice-demo-password", Name: "Alice Example", Role: auth.RoleCustomer},
		{ID: uuid.MustParse("b0b00000-0000-4000-8000-000000000002"), Email: "bob@example.com", Password: "bob-demo-password", Name: "Bob Example", Role: auth.RoleCustomer},
		{ID: uuid.MustParse("ad000000-0000-4000-8000-000000000003"), Email: "admin@example.com", Password: "admin-demo-password", Name: "Ada Admin", Role: auth.RoleAdmin},
		// Staff with a second factor: the one demo account that can refund
		// and create coupons (docs/12-business-flows.md). admin@example.com
		// has none, and the MFA report lists it.
		{ID: uuid.MustParse("0b500000-0000-4000-8000-000000000004"), Email: "ops@example.com", Password: "ops-demo-password", Name: "Olive Ops", Role: auth.RoleAdmin, TOTPSecret: DevTOTPSecret},
	}
}

type product struct {
	id    uuid.UUID
	sku   string
	name  string
	price int64
	stock int32
}

// LimitedProduct is the demo product with little stock: the business-flow
// attacks race for its last units (docs/12-business-flows.md).
const LimitedProduct = "9e000000-0000-4000-8000-000000000005"

func products() []product {
	return []product{
		{uuid.MustParse("9e000000-0000-4000-8000-000000000001"), "KB-001", "Mechanical keyboard", 8900, 100_000},
		{uuid.MustParse("9e000000-0000-4000-8000-000000000002"), "MS-002", "Wireless mouse", 3450, 100_000},
		{uuid.MustParse("9e000000-0000-4000-8000-000000000003"), "MN-003", "27-inch monitor", 27900, 100_000},
		{uuid.MustParse("9e000000-0000-4000-8000-000000000004"), "CB-004", "USB-C cable", 1299, 100_000},
		{uuid.MustParse(LimitedProduct), "LTD-005", "Limited edition keycap set", 4900, 10},
	}
}

type address struct {
	Name       string `json:"name"`
	Line1      string `json:"line1"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city"`
	PostalCode string `json:"postal_code"`
	Country    string `json:"country"`
}

type item struct {
	product  int
	quantity int32
}

type order struct {
	id               uuid.UUID
	owner            int
	status           string
	address          address
	note             string
	internalNote     string
	paymentReference string
	items            []item
}

func orders() []order {
	return []order{
		{
			id: uuid.MustParse("0de00000-0000-4000-8000-00000000a001"), owner: 0, status: "pending",
			address: address{Name: "Alice Example", Line1: "1 Main Street", City: "Springfield", PostalCode: "12345", Country: "US"},
			note:    "Please leave at the door.", internalNote: "VIP customer, check stock by hand.", paymentReference: "pay_alice_0001",
			items: []item{{0, 1}, {3, 2}},
		},
		{
			id: uuid.MustParse("0de00000-0000-4000-8000-00000000a002"), owner: 0, status: "paid",
			address: address{Name: "Alice Example", Line1: "1 Main Street", City: "Springfield", PostalCode: "12345", Country: "US"},
			note:    "", internalNote: "Refund requested once before.", paymentReference: "pay_alice_0002",
			items: []item{{2, 1}},
		},
		{
			id: uuid.MustParse("0de00000-0000-4000-8000-00000000b001"), owner: 1, status: "pending",
			address: address{Name: "Bob Example", Line1: "22 Side Road", Line2: "Flat 3", City: "Shelbyville", PostalCode: "54321", Country: "US"},
			note:    "Gift wrap, please.", internalNote: "Fraud score 0.2", paymentReference: "pay_bob_0001",
			items: []item{{1, 2}},
		},
	}
}

// StaffOnlyValues are the internal notes and payment references of the
// seeded orders: values that must never reach a customer.
func StaffOnlyValues() []string {
	var out []string
	for _, o := range orders() {
		if o.internalNote != "" {
			out = append(out, o.internalNote)
		}
		out = append(out, o.paymentReference)
	}
	return out
}

// Demo loads the demo data. Running it twice changes nothing. pool is the
// tables' owner's, opened in the maintenance scope (postgres.Options): the
// demo rows belong to three accounts, one an admin, and no request's scope
// may write them all.
func Demo(ctx context.Context, pool *pgxpool.Pool, hasher *auth.Hasher, storage files.Storage) ([]Account, error) {
	accounts := Accounts()
	hashes := make([]string, len(accounts))
	for i, a := range accounts {
		h, err := hasher.Hash(ctx, a.Password)
		if err != nil {
			return nil, fmt.Errorf("hash demo password: %w", err)
		}
		hashes[i] = h
	}
	err := postgres.WithTx(ctx, pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		for i, a := range accounts {
			if err := q.SeedUser(ctx, db.SeedUserParams{ID: a.ID, Email: a.Email, Name: a.Name, PasswordHash: hashes[i], Role: a.Role}); err != nil {
				return fmt.Errorf("seed user %s: %w", a.Email, err)
			}
			if a.TOTPSecret != "" {
				if err := q.SeedUserMFA(ctx, db.SeedUserMFAParams{UserID: a.ID, Secret: a.TOTPSecret}); err != nil {
					return fmt.Errorf("seed second factor of %s: %w", a.Email, err)
				}
			}
		}
		catalogue := products()
		for _, p := range catalogue {
			if err := q.SeedProduct(ctx, db.SeedProductParams{ID: p.id, Sku: p.sku, Name: p.name, PriceCents: p.price, Currency: "EUR", Stock: p.stock}); err != nil {
				return fmt.Errorf("seed product %s: %w", p.sku, err)
			}
		}
		for _, o := range orders() {
			if err := seedOrder(ctx, q, o, accounts[o.owner].ID, catalogue); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, o := range orders() {
		if err := seedFile(ctx, db.New(pool), storage, o, accounts[o.owner].ID); err != nil {
			return nil, err
		}
	}
	return accounts, nil
}

// seedFile attaches a small text document to a demo order, once.
func seedFile(ctx context.Context, q *db.Queries, storage files.Storage, o order, owner uuid.UUID) error {
	n, err := q.CountFilesForOwnerOrder(ctx, db.CountFilesForOwnerOrderParams{OwnerID: owner, OrderID: o.id})
	if err != nil || n > 0 {
		return err
	}
	content := []byte("Delivery note for order " + o.id.String() + "\n")
	key := files.NewObjectKey(owner)
	size, err := storage.Put(ctx, key, bytes.NewReader(content))
	if err != nil {
		return fmt.Errorf("store demo file: %w", err)
	}
	sum := sha256.Sum256(content)
	_, err = q.CreateFileForOwner(ctx, db.CreateFileForOwnerParams{
		ID: uuid.New(), OrderID: o.id, OwnerID: owner, ObjectKey: key, OriginalName: "delivery-note.txt",
		ContentType: "text/plain; charset=utf-8", SizeBytes: size, Sha256: sum[:],
	})
	if err != nil {
		_ = storage.Delete(ctx, key)
		return fmt.Errorf("record demo file: %w", err)
	}
	return nil
}

func seedOrder(ctx context.Context, q *db.Queries, o order, owner uuid.UUID, catalogue []product) error {
	addr, err := json.Marshal(o.address)
	if err != nil {
		return fmt.Errorf("encode address: %w", err)
	}
	var total int64
	for _, it := range o.items {
		total += catalogue[it.product].price * int64(it.quantity)
	}
	n, err := q.SeedOrder(ctx, db.SeedOrderParams{
		ID: o.id, OwnerID: owner, Status: o.status, TotalCents: total, Currency: "EUR",
		ShippingAddress: addr, Note: o.note, InternalNote: o.internalNote, PaymentReference: o.paymentReference,
	})
	if err != nil {
		return fmt.Errorf("seed order %s: %w", o.id, err)
	}
	if n == 0 {
		return nil // already seeded
	}
	for i, it := range o.items {
		p := catalogue[it.product]
		if err := q.SeedOrderItem(ctx, db.SeedOrderItemParams{
			OrderID: o.id, Line: int32(i + 1), ProductID: p.id, Name: p.name, Quantity: it.quantity, UnitPriceCents: p.price, //nolint:gosec // i < 50.
		}); err != nil {
			return fmt.Errorf("seed item of %s: %w", o.id, err)
		}
	}
	return nil
}
