package files

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bulwark-dev/bulwark/internal/db"
)

// Orphans are objects in storage that no files row records. Upload stores
// the object before it records the row, and deletes the object again when
// the insert fails; but a process killed between the two leaves the object
// behind, and so does a cascade (an order or an account deleted by the
// owner takes its files rows with it, not its objects). `api storage-gc`
// finds them and, with -apply, deletes them (docs/06-file-access.md).

// Lister is a storage backend that can list its objects.
type Lister interface {
	// List calls fn for every object under the owners/ prefix with its
	// last modification time.
	List(ctx context.Context, fn func(key string, modified time.Time) error) error
}

// GCOptions say what storage-gc does.
type GCOptions struct {
	Apply bool // delete the orphans; otherwise only list them
	// MinAge spares objects younger than this: an upload in flight has
	// stored its object and not yet recorded it.
	MinAge time.Duration
	Out    io.Writer // one line per orphan
}

// GCReport counts what storage-gc saw.
type GCReport struct {
	Objects, Orphans, Deleted int
}

const gcBatch = 500

// CollectGarbage lists storage, asks the database (pool: the owner's, in
// the maintenance scope) which keys are recorded, and reports or deletes
// the rest.
func CollectGarbage(ctx context.Context, pool *pgxpool.Pool, storage Storage, opts GCOptions) (GCReport, error) {
	lister, ok := storage.(Lister)
	if !ok {
		return GCReport{}, fmt.Errorf("storage-gc: the storage backend %T cannot list its objects", storage)
	}
	q := db.New(pool)
	var (
		report GCReport
		batch  []string
	)
	cutoff := time.Now().Add(-opts.MinAge)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		recorded, err := q.RecordedObjectKeys(ctx, batch)
		if err != nil {
			return fmt.Errorf("storage-gc: look up keys: %w", err)
		}
		known := make(map[string]bool, len(recorded))
		for _, k := range recorded {
			known[k] = true
		}
		for _, key := range batch {
			if known[key] {
				continue
			}
			report.Orphans++
			verb := "orphan (dry run; -apply deletes it)"
			if opts.Apply {
				if err := storage.Delete(ctx, key); err != nil {
					return fmt.Errorf("storage-gc: delete %s: %w", key, err)
				}
				report.Deleted++
				verb = "deleted"
			}
			_, _ = fmt.Fprintf(opts.Out, "%s %s\n", verb, key)
		}
		batch = batch[:0]
		return nil
	}
	err := lister.List(ctx, func(key string, modified time.Time) error {
		// Only keys the service builds: anything else in the bucket is
		// not the service's to judge.
		if !ValidObjectKey(key) || modified.After(cutoff) {
			return nil
		}
		report.Objects++
		batch = append(batch, key)
		if len(batch) == gcBatch {
			return flush()
		}
		return nil
	})
	if err != nil {
		return report, err
	}
	return report, flush()
}
