package app

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/bulwark-dev/bulwark/internal/config"
	"github.com/bulwark-dev/bulwark/internal/files"
)

// parseGC reads storage-gc's flags. A dry run is the default: deleting
// objects is the one thing this command can do wrong, so it must be asked
// for.
func parseGC(args []string, out io.Writer) (files.GCOptions, error) {
	fs := flag.NewFlagSet("storage-gc", flag.ContinueOnError)
	fs.SetOutput(out)
	apply := fs.Bool("apply", false, "delete the orphaned objects (default: only list them)")
	minAge := fs.Duration("min-age", time.Hour, "spare objects younger than this: an upload in flight has stored its object but not yet recorded it")
	if err := fs.Parse(args); err != nil {
		return files.GCOptions{}, fmt.Errorf("storage-gc: %w; %s", err, usage)
	}
	if fs.NArg() > 0 || *minAge < 0 {
		return files.GCOptions{}, fmt.Errorf("storage-gc: unexpected %v; %s", fs.Args(), usage)
	}
	return files.GCOptions{Apply: *apply, MinAge: *minAge, Out: out}, nil
}

// storageGC finds the objects no files row records and lists or deletes
// them (files.CollectGarbage). It reads the files table as the owner, in
// the maintenance scope, as the seed does: no request's scope sees every
// customer's files.
func storageGC(ctx context.Context, cfg config.Config, opts files.GCOptions, logger *slog.Logger) error {
	r, err := openResources(ctx, cfg, cfg.OwnerDatabaseURL().Reveal(), true)
	if err != nil {
		return err
	}
	defer r.close()
	report, err := files.CollectGarbage(ctx, r.pool, r.storage, opts)
	logger.Info("storage-gc", "apply", opts.Apply, "objects_checked", report.Objects, "orphans", report.Orphans, "deleted", report.Deleted)
	return err
}
