package lake

import (
	"log/slog"
	"strings"
	"time"
)

// Table is a Delta table stored under root (a key prefix, "" for the store's root).
// It holds no state besides its configuration: every load reads the log, so one Table
// may be shared by goroutines, and several processes may write the same table.
//
//	t := lake.NewTable(store, "silver/events", lake.WithLogger(logger))
//	snap, err := t.Latest(ctx)
//	tx := t.Begin(snap)
//	tx.Add(add)
//	tx.Operation("WRITE", map[string]any{"mode": "Append"})
//	version, err := tx.Commit(ctx)
type Table struct {
	store              Store
	root               string
	name               string // how errors and logs name the table; root by default
	logger             *slog.Logger
	checkpointInterval int64
	maxAttempts        int
	now                func() time.Time
}

// Option configures a Table.
type Option func(*Table)

// WithName sets how errors and logs name the table, e.g. the URL a user typed.
// The default is the table's root key prefix.
func WithName(name string) Option {
	return func(t *Table) { t.name = name }
}

// WithLogger sets the logger for what a commit does best effort (checkpoints). The
// default discards.
func WithLogger(l *slog.Logger) Option {
	return func(t *Table) { t.logger = l.With("component", "delta", "table", t.root) }
}

// WithCheckpointInterval writes a checkpoint after every commit whose version is a
// multiple of n. The default is 10; 0 turns checkpoints off.
func WithCheckpointInterval(n int) Option {
	return func(t *Table) { t.checkpointInterval = int64(n) }
}

// WithMaxCommitAttempts bounds how many versions a commit tries before it gives up
// against a stream of concurrent commits. The default is 100.
func WithMaxCommitAttempts(n int) Option {
	return func(t *Table) { t.maxAttempts = max(n, 1) }
}

// WithClock sets the clock that stamps commits (commitInfo.timestamp, remove
// deletionTimestamp). The default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(t *Table) { t.now = now }
}

// NewTable returns the table at root in store. It reads nothing.
func NewTable(store Store, root string, opts ...Option) *Table {
	t := &Table{
		store:              store,
		root:               strings.Trim(root, "/"),
		checkpointInterval: 10,
		maxAttempts:        100,
		now:                time.Now,
	}
	t.logger = slog.New(slog.DiscardHandler)
	for _, o := range opts {
		o(t)
	}
	return t
}

// Store returns the store that holds the table.
func (t *Table) Store() Store { return t.store }

// Root returns the table's key prefix ("" or ending without a slash).
func (t *Table) Root() string { return t.root }

// Key returns the store key of a path relative to the table root (a data file's
// decoded path, or "_delta_log/...").
func (t *Table) Key(rel string) string {
	if t.root == "" {
		return rel
	}
	return t.root + "/" + rel
}

// String names the table in errors and logs.
func (t *Table) String() string {
	switch {
	case t.name != "":
		return t.name
	case t.root == "":
		return "/"
	}
	return t.root
}
