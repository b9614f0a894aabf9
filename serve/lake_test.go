package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/gold"
	"github.com/lakectl/lakectl/internal/bronzefixture"
	"github.com/lakectl/lakectl/internal/lakefixture"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/cache"
	"github.com/lakectl/lakectl/lake/fs"
	"github.com/lakectl/lakectl/pipeline"
	"github.com/lakectl/lakectl/pipeline/jobenv"
	"github.com/lakectl/lakectl/silver"
	"github.com/lakectl/lakectl/views"
)

var testEngine = engine.Config{Threads: 1, MemoryLimit: "512MiB"}

// testLake is a file lake of the example pipeline with Bronze written directly, as
// ingest commits it; serve's tasks do the rest.
type testLake struct {
	t      testing.TB
	p      *pipeline.Pipeline
	dir    string // the lake's directory
	offset int64
}

func newTestLake(t testing.TB) *testLake {
	t.Helper()
	dir := t.TempDir()
	if _, err := pipeline.WriteExample(dir); err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.Load(dir, pipeline.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(p.Store.URL)
	if err != nil {
		t.Fatal(err)
	}
	l := &testLake{t: t, p: p, dir: u.Path}
	sess := l.session()
	defer sess.Close()
	if _, err := silver.LoadRef(t.Context(), l.store(), sess, silver.RefSpecOf(*p.Ref("users"), p.Path(p.Ref("users").File)), time.Now()); err != nil {
		t.Fatal(err)
	}
	return l
}

// store opens the lake anew, as another process would.
func (l *testLake) store() lake.Store {
	s, err := fs.New(l.dir)
	if err != nil {
		l.t.Fatal(err)
	}
	return s
}

func (l *testLake) session() *engine.Session {
	s, err := engine.Open(l.t.Context(), testEngine)
	if err != nil {
		l.t.Fatal(err)
	}
	return s
}

// replica is what one serve process builds over the lake: its own store, cache and
// jobs, with the plan from the lake's history.
func (l *testLake) replica() Pipeline {
	t, ctx := l.t, l.t.Context()
	t.Helper()
	store := l.store()
	c := cache.New(store, filepath.Join(t.TempDir(), "cache"), 0)
	models, err := gold.Load(ctx, l.p, testEngine)
	if err != nil {
		t.Fatal(err)
	}
	vs, err := views.Load(ctx, l.p, testEngine)
	if err != nil {
		t.Fatal(err)
	}
	m, err := views.Measure(ctx, store, l.p, vs, models)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := views.Build(l.p, vs, models, m)
	if err != nil {
		t.Fatal(err)
	}
	return Pipeline{
		Silver:       silver.NewJob(silver.Config{Env: jobenv.Env{Store: store, Pipeline: l.p, Cache: c, Engine: testEngine}}),
		SilverTables: []string{"events"},
		Gold:         gold.NewJob(gold.Config{Env: jobenv.Env{Store: store, Pipeline: l.p, Cache: c, Engine: testEngine}, Models: models}),
		Views:        views.NewJob(views.Config{Env: jobenv.Env{Store: store, Pipeline: l.p, Cache: c, Engine: testEngine}, Views: vs}),
		Plan:         plan,
	}
}

// ev is one event: user, type, amount, event time (RFC 3339).
type ev struct {
	user, typ string
	amount    float64
	at        string
}

// ingest commits events to bronze/events as ingested at ingested, and moves the
// sealing mark to sealed.
func (l *testLake) ingest(events []ev, ingested, sealed string) {
	t := l.t
	t.Helper()
	sess := l.session()
	defer sess.Close()
	var payloads [][]byte
	for i, e := range events {
		b, _ := json.Marshal(map[string]any{"event_id": fmt.Sprintf("e%d", l.offset+int64(i)+1), "user_id": e.user, "event_type": e.typ,
			"amount": e.amount, "timestamp": e.at})
		payloads = append(payloads, b)
	}
	bronzefixture.Commit(t, sess, l.store(), "events", l.offset, payloads, ts(ingested), ts(sealed))
	l.offset += int64(len(events))
}

func latest(t testing.TB, tb *lake.Table) (*lake.Snapshot, error) {
	snap, err := tb.Latest(t.Context())
	if errors.Is(err, lake.ErrNoTable) {
		return nil, nil
	}
	return snap, err
}

// dump is the rows of the table at root, sorted, one string each; nil before it
// exists.
func (l *testLake) dump(root string) []string {
	t, ctx := l.t, l.t.Context()
	t.Helper()
	tb := lake.NewTable(l.store(), root)
	snap, err := latest(t, tb)
	if err != nil {
		t.Fatal(err)
	}
	if snap == nil {
		return nil
	}
	sess := l.session()
	defer sess.Close()
	if err := sess.RegisterTable(ctx, "t", "t", snap, engine.TableFiles(tb, cache.New(tb.Store(), t.TempDir(), 0))); err != nil {
		t.Fatal(err)
	}
	rows, err := sess.QueryContext(ctx, "SELECT * FROM t.t ORDER BY ALL")
	if err != nil {
		t.Fatal(err)
	}
	return lakefixture.Strings(t, rows)
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}
