// Package lakefixture is a file lake of the example pipeline for the tests of the
// layers above Silver (gold, views): events committed to Bronze as ingest would
// commit them (bronzefixture), the real Silver job over them, and queries over the
// lake's tables with their rows as strings.
//
//	l := lakefixture.New(t, lakefixture.ExamplePipeline(t, "models", nil))
//	l.Ingest([]lakefixture.Event{{"u1", "purchase", 9.5, "2026-11-20T08:10:00Z"}},
//		"2026-11-20T08:30:00Z", "2026-11-20T10:10:00Z")
//	rows := l.Rows("SELECT count(*) FROM silver.events", nil)
package lakefixture

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/internal/bronzefixture"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/cache"
	"github.com/lakectl/lakectl/lake/fs"
	"github.com/lakectl/lakectl/pipeline"
	"github.com/lakectl/lakectl/pipeline/jobenv"
	"github.com/lakectl/lakectl/silver"
)

// Engine is the DuckDB configuration of the fixture's sessions and jobs: small, so
// that tests running in parallel fit the machine.
var Engine = engine.Config{Threads: 2, MemoryLimit: "1GiB"}

// ExamplePipeline writes the example pipeline into a temporary directory, with the
// SQL files of dir (models, views) in files written over the example's (a nil body
// removes the file), and loads it.
func ExamplePipeline(t testing.TB, dir string, files map[string]*string) *pipeline.Pipeline {
	t.Helper()
	root := t.TempDir()
	if _, err := pipeline.WriteExample(root); err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		path := filepath.Join(root, dir, name+".sql")
		if body == nil {
			os.Remove(path)
			continue
		}
		if err := os.WriteFile(path, []byte(*body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, err := pipeline.Load(root, pipeline.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Event is one event of a test: user, type, amount and event time (RFC 3339).
type Event struct {
	User, Type string
	Amount     float64
	At         string
}

// Lake is a file lake of a pipeline, with the reference table users loaded.
type Lake struct {
	T        testing.TB
	Pipeline *pipeline.Pipeline
	Store    lake.Store
	// Sess is a session for the fixture's own writes (Bronze, references).
	Sess  *engine.Session
	Cache *cache.Cache
	// offset is the Kafka offset of the last event committed.
	offset int64
}

// New opens the lake of p (a file lake) and loads its users reference.
func New(t testing.TB, p *pipeline.Pipeline) *Lake {
	t.Helper()
	u, err := url.Parse(p.Store.URL)
	if err != nil {
		t.Fatal(err)
	}
	store, err := fs.New(u.Path)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := engine.Open(t.Context(), Engine)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	l := &Lake{T: t, Pipeline: p, Store: store, Sess: sess, Cache: cache.New(store, filepath.Join(t.TempDir(), "cache"), 0)}
	l.LoadRef(p.Path(p.Ref("users").File), time.Time{})
	return l
}

// LoadRef loads file as a new version of the users reference, valid from validFrom
// (zero: from the load).
func (l *Lake) LoadRef(file string, validFrom time.Time) {
	l.T.Helper()
	spec := silver.RefSpecOf(*l.Pipeline.Ref("users"), file)
	spec.ValidFrom = validFrom
	if _, err := silver.LoadRef(l.T.Context(), l.Store, l.Sess, spec, time.Now()); err != nil {
		l.T.Fatal(err)
	}
}

// Ingest commits events to bronze/events as ingested at ingested (RFC 3339), with
// event ids e1, e2, ... in the order of all the fixture's events, moves the sealing
// mark to sealed, and runs Silver over every pending hour.
func (l *Lake) Ingest(events []Event, ingested, sealed string) {
	l.T.Helper()
	var payloads []map[string]any
	for i, e := range events {
		payloads = append(payloads, map[string]any{"event_id": fmt.Sprintf("e%d", l.offset+int64(i)+1),
			"user_id": e.User, "event_type": e.Type, "amount": e.Amount, "timestamp": e.At})
	}
	l.IngestPayloads(payloads, ingested, sealed)
}

// IngestPayloads is Ingest of payloads as given.
func (l *Lake) IngestPayloads(payloads []map[string]any, ingested, sealed string) {
	t, ctx := l.T, l.T.Context()
	t.Helper()
	var raw [][]byte
	for _, p := range payloads {
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		raw = append(raw, b)
	}
	bronzefixture.Commit(t, l.Sess, l.Store, "events", l.offset, raw, TS(ingested), TS(sealed))
	l.offset += int64(len(payloads))
	sj := silver.NewJob(silver.Config{Env: jobenv.Env{Store: l.Store, Pipeline: l.Pipeline, Cache: l.Cache, Engine: Engine}})
	hours, err := sj.Pending(ctx, "events")
	if err != nil {
		t.Fatal(err)
	}
	if err := sj.RunHours(ctx, "events", hours, silver.RunOptions{}, nil); err != nil {
		t.Fatal(err)
	}
}

// Rows runs q in a new session over the latest snapshots of silver.events and the
// tables of more (schema and name to root; a table not written yet is left out), and
// returns the rows as strings.
func (l *Lake) Rows(q string, more map[[2]string]string) []string {
	t, ctx := l.T, l.T.Context()
	t.Helper()
	sess, err := engine.Open(ctx, Engine)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	tables := map[[2]string]string{{"silver", "events"}: silver.Root("events")}
	for n, root := range more {
		tables[n] = root
	}
	for n, root := range tables {
		tb := lake.NewTable(l.Store, root)
		snap, err := tb.Latest(ctx)
		if errors.Is(err, lake.ErrNoTable) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := sess.RegisterTable(ctx, n[0], n[1], snap, engine.TableFiles(tb, l.Cache)); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := sess.QueryContext(ctx, q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return Strings(t, rows)
}

// Strings reads rows to the end and closes them: each row as its values printed
// with spaces between them.
func Strings(t testing.TB, rows *sql.Rows) []string {
	t.Helper()
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.TrimSuffix(fmt.Sprintln(vals...), "\n"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// History is the commits of the table at root.
func (l *Lake) History(root string) []lake.CommitSummary {
	l.T.Helper()
	h, err := lake.NewTable(l.Store, root).History(l.T.Context())
	if err != nil {
		l.T.Fatal(err)
	}
	return h
}

// TS parses an RFC 3339 time of a test.
func TS(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}
