package payments

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bulwark-dev/bulwark/internal/db"
	"github.com/bulwark-dev/bulwark/internal/postgres"
)

// Store is the only code of this package that touches SQL.
type Store struct {
	pool *pgxpool.Pool
	q    *db.Queries
}

// Its statements run as the request's identity, under row-level security
// (postgres.Scoped): the webhook's payment scope, the payer's own scope.
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool, q: db.New(postgres.Scoped(pool))} }

// paySucceeded records the event and moves its order to paid, in one
// transaction: both or neither. The event row comes first, so a second
// delivery of the same event, even one racing the first, waits on the
// primary key and then finds it taken: it returns applied=false and
// changes nothing. An event that does not fit its order rolls back, so it
// is not recorded either.
func (s *Store) paySucceeded(ctx context.Context, ev Event) (applied bool, err error) {
	err = postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		_, err := q.RecordPaymentEvent(ctx, db.RecordPaymentEventParams{
			EventID: ev.ID, OrderID: ev.OrderID, PaymentID: ev.PaymentID, AmountCents: ev.AmountCents, Currency: ev.Currency,
		})
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // already processed: a replay or a redelivery
		}
		if err != nil {
			return fmt.Errorf("record event %s: %w", ev.ID, err)
		}
		_, err = q.PayPendingOrderFromProvider(ctx, db.PayPendingOrderFromProviderParams{
			ID: ev.OrderID, PaymentReference: ev.PaymentID, AmountCents: ev.AmountCents, Currency: ev.Currency,
		})
		if errors.Is(err, pgx.ErrNoRows) {
			return s.mismatch(ctx, q, ev)
		}
		if err != nil {
			return fmt.Errorf("pay order %s: %w", ev.OrderID, err)
		}
		applied = true
		return nil
	})
	return applied, err
}

// mismatch says, for the log, why an event did not fit its order.
func (s *Store) mismatch(ctx context.Context, q *db.Queries, ev Event) error {
	st, err := q.GetOrderPaymentState(ctx, ev.OrderID)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("event %s: no order %s: %w", ev.ID, ev.OrderID, ErrNoMatch)
	}
	if err != nil {
		return fmt.Errorf("event %s: read order %s: %w", ev.ID, ev.OrderID, err)
	}
	return fmt.Errorf("event %s pays %d %s for order %s, which is %s at %d %s: %w",
		ev.ID, ev.AmountCents, ev.Currency, ev.OrderID, st.Status, st.TotalCents, st.Currency, ErrNoMatch)
}
