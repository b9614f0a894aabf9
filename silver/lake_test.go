package silver

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/lakectl/lakectl/bronze"
	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/cache"
	"github.com/lakectl/lakectl/lake/fs"
	"github.com/lakectl/lakectl/pipeline"
	"github.com/lakectl/lakectl/pipeline/jobenv"
)

// testLake is a file lake with the example pipeline and its users reference table.
type testLake struct {
	t     *testing.T
	store lake.Store
	p     *pipeline.Pipeline
	sess  *engine.Session
	cache *cache.Cache
	dir   string // the lake's directory
}

func newTestLake(t *testing.T) *testLake {
	t.Helper()
	sess, err := engine.Open(t.Context(), engine.Config{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	dir := t.TempDir()
	store, p := openExampleLake(t, dir, sess)
	return &testLake{t: t, store: store, p: p, sess: sess, cache: cache.New(store, filepath.Join(dir, ".cache"), 0), dir: dir}
}

// openExampleLake opens a file lake in dir for the example pipeline and loads the
// pipeline's users reference table into it through sess.
func openExampleLake(tb testing.TB, dir string, sess *engine.Session) (lake.Store, *pipeline.Pipeline) {
	tb.Helper()
	store, err := fs.New(dir)
	if err != nil {
		tb.Fatal(err)
	}
	p, err := pipeline.Load("../testdata/pipeline", pipeline.Overrides{Store: "file://" + dir})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := LoadRef(tb.Context(), store, sess, RefSpecOf(*p.Ref("users"), p.Path(p.Ref("users").File)), time.Now()); err != nil {
		tb.Fatal(err)
	}
	return store, p
}

func (l *testLake) job() *Job {
	return NewJob(Config{Env: jobenv.Env{Store: l.store, Pipeline: l.p, Cache: l.cache, Engine: engine.Config{Threads: 2}}})
}

// rec is one Bronze record of a test.
type rec struct {
	partition int32
	offset    int64
	ingested  time.Time
	payload   string
}

// event returns the payload of a valid event.
func event(id, user, typ string, amount float64, at time.Time) string {
	b, _ := json.Marshal(map[string]any{"event_id": id, "user_id": user, "event_type": typ, "amount": amount,
		"timestamp": at.UTC().Format(time.RFC3339Nano)})
	return string(b)
}

// ingest appends records to bronze/events in one commit and moves every partition's
// sealing mark to sealed.
func (l *testLake) ingest(recs []rec, sealed time.Time) {
	t, ctx := l.t, l.t.Context()
	t.Helper()
	if _, err := l.sess.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE recs (payload BLOB, "partition" INTEGER, "offset" BIGINT, ingested_at TIMESTAMPTZ)`); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if _, err := l.sess.ExecContext(ctx, "INSERT INTO recs VALUES (?, ?, ?, ?)", []byte(r.payload), r.partition, r.offset, r.ingested); err != nil {
			t.Fatal(err)
		}
	}
	commitBronze(t, l.sess, l.store, 3, sealed, `SELECT payload, NULL::BLOB AS key,
  []::STRUCT(key VARCHAR, value BLOB)[] AS headers, 'kafka' AS source, 'events' AS topic, "partition", "offset",
  NULL::TIMESTAMPTZ AS source_timestamp, ingested_at,
  CAST(ingested_at AS DATE) AS ingest_date, CAST(hour(ingested_at) AS INTEGER) AS ingest_hour FROM recs`)
}

// commitBronze writes the rows of query (Bronze's columns, bound to args) into
// bronze/events in one commit, creating the table if needed, and moves the sealing
// mark of Kafka partitions 0..partitions-1 to sealed.
func commitBronze(tb testing.TB, sess *engine.Session, store lake.Store, partitions int32, sealed time.Time, query string, args ...any) {
	tb.Helper()
	ctx := tb.Context()
	bt := lake.NewTable(store, layout.TableRoot("events"))
	snap, err := latestOrNil(ctx, bt)
	if err != nil {
		tb.Fatal(err)
	}
	adds, err := sess.WriteFiles(ctx, bt, []string{layout.ColIngestDate, layout.ColIngestHour}, query, args...)
	if err != nil {
		tb.Fatal(err)
	}
	tx := bt.Begin(snap)
	if snap == nil {
		tx.SetMetadata(bronze.NewMetadata("", "events", time.Now()))
	}
	tx.Add(adds...)
	for p := range partitions {
		tx.SetTxn(layout.KafkaWatermarkAppID("events", p), sealed.UnixMilli())
	}
	if _, err := tx.Commit(ctx); err != nil {
		tb.Fatal(err)
	}
}

// query runs SQL with silver.events, quarantine.events and bronze.events registered
// over their latest snapshots.
func (l *testLake) query(q string, dest ...any) {
	t, ctx := l.t, l.t.Context()
	t.Helper()
	for _, tb := range []struct{ schema, root string }{{"silver", Root("events")}, {"quarantine", QuarantineRoot("events")}} {
		table := lake.NewTable(l.store, tb.root)
		snap, err := latestOrNil(ctx, table)
		if err != nil {
			t.Fatal(err)
		}
		if snap == nil {
			continue
		}
		if err := l.sess.RegisterTable(ctx, tb.schema, "events", snap, engine.TableFiles(table, l.cache)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.sess.QueryRowContext(ctx, q).Scan(dest...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// files lists the data files of a table's latest snapshot.
func (l *testLake) files(root string) []string {
	l.t.Helper()
	snap, err := latestOrNil(l.t.Context(), lake.NewTable(l.store, root))
	if err != nil {
		l.t.Fatal(err)
	}
	if snap == nil {
		return nil
	}
	var out []string
	for _, a := range snap.Files() {
		out = append(out, a.Path)
	}
	return out
}

func hourAt(s string) layout.Hour {
	h, err := layout.ParseHour(s)
	if err != nil {
		panic(err)
	}
	return h
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(fmt.Sprintf("bad test time %q: %v", s, err))
	}
	return t
}
