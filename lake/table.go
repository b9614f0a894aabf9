package lake

// API SKETCH — owned by the Delta-log work; bodies are replaced by the implementation.
// Other packages may compile against these signatures now.

import (
	"context"
	"time"
)

// Table is a Delta table stored under root (a key prefix, "" for the store's root).
type Table struct {
	store Store
	root  string
}

// NewTable returns the table at root in store. It reads nothing.
func NewTable(store Store, root string) *Table { return &Table{store: store, root: root} }

// Store returns the store that holds the table.
func (t *Table) Store() Store { return t.store }

// Root returns the table's key prefix ("" or ending without a slash).
func (t *Table) Root() string { return t.root }

// Snapshot is the state of a table at one version.
type Snapshot struct {
	Version   int64
	Timestamp time.Time // commit time of Version
	Protocol  Protocol
	Metadata  Metadata
}

// Files returns the live data files sorted by path.
func (s *Snapshot) Files() []Add { panic("todo") }

// TxnVersion returns the latest txn version recorded for appID.
func (s *Snapshot) TxnVersion(appID string) (int64, bool) { panic("todo") }

// Schema parses Metadata.SchemaString.
func (s *Snapshot) Schema() (*Schema, error) { panic("todo") }

// Latest loads the newest snapshot; ErrNoTable when there is no log.
func (t *Table) Latest(ctx context.Context) (*Snapshot, error) { panic("todo") }

// Schema is a Delta struct type.
type Schema struct {
	Fields []Field
}

// Field is one column of a Schema.
type Field struct {
	Name     string
	Type     string // primitive name; complex types described elsewhere
	Nullable bool
}
