package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/stores"
)

// openTable opens the Delta table whose _delta_log is directly under url: a local
// path, file://..., or s3://bucket/prefix/table (the table is at the store's root).
// A read-only table refuses every write, so commands that only read cannot write by
// mistake and work with read-only credentials.
func openTable(ctx context.Context, url string, readOnly bool) (*lake.Table, error) {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	store, err := stores.Open(ctx, url, stores.Options{Logger: logger, ReadOnly: readOnly})
	if err != nil {
		return nil, err // stores.Open names the URL
	}
	return lake.NewTable(store, "", lake.WithName(url), lake.WithLogger(logger)), nil
}

// snapshotSelector picks a version: the latest when both fields are nil.
type snapshotSelector struct {
	version *int64
	asOf    *time.Time
}

// loadSnapshot opens the table at url and loads the snapshot that at selects. A table
// that needs a protocol feature lakectl does not implement fails here, naming it.
func loadSnapshot(ctx context.Context, url string, at snapshotSelector) (*lake.Snapshot, error) {
	t, err := openTable(ctx, url, true)
	if err != nil {
		return nil, err
	}
	var snap *lake.Snapshot
	switch {
	case at.version != nil:
		snap, err = t.At(ctx, *at.version)
		if err != nil {
			return nil, withTableHint(err)
		}
	case at.asOf != nil:
		snap, err = t.AsOf(ctx, *at.asOf)
		if err != nil {
			return nil, withTableHint(err)
		}
	default:
		snap, err = t.Latest(ctx)
		if err != nil {
			return nil, withTableHint(err)
		}
	}
	return snap, nil
}

// withTableHint adds a hint to err where one helps.
func withTableHint(err error) error {
	var unsupported *lake.UnsupportedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &unsupported):
		return hinted(err, fmt.Sprintf("lakectl handles Delta tables of protocol reader 1 / writer 2; "+
			"use an engine that supports %s (Spark, delta-rs) for this table", unsupported.Feature))
	case errors.Is(err, lake.ErrNoTable):
		return hinted(err, "give the table's own directory or prefix: the one that holds _delta_log")
	case errors.Is(err, lake.ErrCorruptCommit):
		return hinted(err, "lakectl writes every commit in one atomic write, so the file was damaged or "+
			"replaced outside lakectl: restore it from a backup or the bucket's object versions; "+
			"until then the versions from it on cannot be read and vacuum deletes nothing")
	case errors.Is(err, lake.ErrVersionNotFound):
		return hinted(err, "lakectl table history URL lists the versions and their times")
	}
	return err
}
