package files

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
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

// NewStore wraps the pool. Its queries run as the request's identity,
// under row-level security (postgres.Scoped, docs/01-bola.md).
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool, q: db.New(postgres.Scoped(pool))} }

// requireLiveSession is postgres.RequireLiveSession on the store's pool.
func (s *Store) requireLiveSession(ctx context.Context) error {
	return postgres.RequireLiveSession(ctx, s.pool)
}

func fromRow(r db.File) File {
	return File{
		ID: r.ID, OrderID: r.OrderID, OwnerID: r.OwnerID, ObjectKey: r.ObjectKey, Name: r.OriginalName,
		ContentType: r.ContentType, Size: r.SizeBytes, SHA256: r.Sha256, CreatedAt: r.CreatedAt,
	}
}

// create records a stored object. The customer's and the order's rows are
// locked first, so the order's state, the per-order cap and the quota are
// checked and the row inserted as one step even when uploads race.
func (s *Store) create(ctx context.Context, f File, limits Limits) (File, error) {
	var out File
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		// The customer first, then the order: every upload takes the locks
		// in this order, so two cannot deadlock.
		if _, err := q.LockOwnerForOwnerUpload(ctx, f.OwnerID); err != nil {
			return fmt.Errorf("lock owner %s: %w", f.OwnerID, err)
		}
		if _, err := q.LockOrderForOwner(ctx, db.LockOrderForOwnerParams{ID: f.OrderID, OwnerID: f.OwnerID}); errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("order %s gone: %w", f.OrderID, errOrderNotFound)
		} else if err != nil {
			return fmt.Errorf("lock order %s: %w", f.OrderID, err)
		}
		st, err := s.uploadState(ctx, q, f.OwnerID, f.OrderID)
		if err != nil {
			return err
		}
		if err := admit(st, limits, f.Size); err != nil {
			return err
		}
		row, err := q.CreateFileForOwner(ctx, db.CreateFileForOwnerParams{
			ID: f.ID, OrderID: f.OrderID, OwnerID: f.OwnerID, ObjectKey: f.ObjectKey, OriginalName: f.Name,
			ContentType: f.ContentType, SizeBytes: f.Size, Sha256: f.SHA256,
		})
		if err != nil {
			return fmt.Errorf("insert file: %w", err)
		}
		out = fromRow(row)
		return nil
	})
	return out, err
}

func (s *Store) listForOrder(ctx context.Context, owner, orderID uuid.UUID) ([]File, error) {
	rows, err := s.q.ListFilesForOwnerOrder(ctx, db.ListFilesForOwnerOrderParams{OwnerID: owner, OrderID: orderID})
	if err != nil {
		return nil, fmt.Errorf("list files of %s: %w", orderID, err)
	}
	out := make([]File, 0, len(rows))
	for _, r := range rows {
		out = append(out, fromRow(r))
	}
	return out, nil
}

func (s *Store) getForOwner(ctx context.Context, owner, id uuid.UUID) (File, error) {
	row, err := s.q.GetFileForOwner(ctx, db.GetFileForOwnerParams{ID: id, OwnerID: owner})
	if errors.Is(err, pgx.ErrNoRows) {
		return File{}, fmt.Errorf("file %s for %s: %w", id, owner, ErrNotFound)
	}
	if err != nil {
		return File{}, fmt.Errorf("load file %s: %w", id, err)
	}
	return fromRow(row), nil
}

func (s *Store) bySignedKey(ctx context.Context, key string) (File, error) {
	row, err := s.q.GetFileBySignedKey(ctx, key)
	if errors.Is(err, pgx.ErrNoRows) {
		return File{}, fmt.Errorf("no file under %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return File{}, fmt.Errorf("load file by key: %w", err)
	}
	return fromRow(row), nil
}

// delete removes the row, calls removeObject with its key, and commits only
// if that succeeded.
func (s *Store) delete(ctx context.Context, owner, id uuid.UUID, removeObject func(key string) error) error {
	return postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		key, err := s.q.WithTx(tx).DeleteFileForOwner(ctx, db.DeleteFileForOwnerParams{ID: id, OwnerID: owner})
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("file %s for %s: %w", id, owner, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("delete file %s: %w", id, err)
		}
		return removeObject(key)
	})
}
