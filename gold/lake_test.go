package gold

import (
	"encoding/json"
	"fmt"
	"net/url"
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

// testLake is a file lake of the example pipeline, filled through Bronze and the real
// Silver job.
type testLake struct {
	t      *testing.T
	p      *pipeline.Pipeline
	store  lake.Store
	sess   *engine.Session
	cache  *cache.Cache
	models *Models
	offset int64
}

var testEngine = engine.Config{Threads: 2, MemoryLimit: "1GiB"}

func newTestLake(t *testing.T, models map[string]*string) *testLake {
	t.Helper()
	p := examplePipeline(t, models)
	u, err := url.Parse(p.Store.URL)
	if err != nil {
		t.Fatal(err)
	}
	store, err := fs.New(u.Path)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := engine.Open(t.Context(), testEngine)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	if _, err := silver.LoadRef(t.Context(), store, sess, silver.RefSpecOf(*p.Ref("users"), p.Path(p.Ref("users").File)), time.Now()); err != nil {
		t.Fatal(err)
	}
	ms, err := loadModels(t, p)
	if err != nil {
		t.Fatal(err)
	}
	return &testLake{t: t, p: p, store: store, sess: sess, cache: cache.New(store, filepath.Join(t.TempDir(), "cache"), 0), models: ms}
}

func (l *testLake) job() *Job {
	return NewJob(Config{Env: jobenv.Env{Store: l.store, Pipeline: l.p, Cache: l.cache, Engine: testEngine}, Models: l.models})
}

// ev is one event of a test.
type ev struct {
	user, typ string
	amount    float64
	at        string // RFC 3339
}

// ingest commits events to bronze/events as ingested at ingested, moves the sealing
// mark to sealed, and runs Silver over every pending hour.
func (l *testLake) ingest(events []ev, ingested, sealed string) {
	t, ctx := l.t, l.t.Context()
	t.Helper()
	var payloads [][]byte
	for i, e := range events {
		b, _ := json.Marshal(map[string]any{"event_id": fmt.Sprintf("e%d", l.offset+int64(i)+1), "user_id": e.user, "event_type": e.typ,
			"amount": e.amount, "timestamp": e.at})
		payloads = append(payloads, b)
	}
	bronzefixture.Commit(t, l.sess, l.store, "events", l.offset, payloads, ts(ingested), ts(sealed))
	l.offset += int64(len(events))
	sj := silver.NewJob(silver.Config{Env: jobenv.Env{Store: l.store, Pipeline: l.p, Cache: l.cache, Engine: testEngine}})
	hours, err := sj.Pending(ctx, "events")
	if err != nil {
		t.Fatal(err)
	}
	if err := sj.RunHours(ctx, "events", hours, silver.RunOptions{}, nil); err != nil {
		t.Fatal(err)
	}
}

// rows runs q over the latest snapshots of silver.events and the gold tables and
// returns the rows as strings.
func (l *testLake) rows(q string) []string {
	t, ctx := l.t, l.t.Context()
	t.Helper()
	sess, err := engine.Open(ctx, testEngine)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	tables := map[[2]string]string{{"silver", "events"}: silver.Root("events")}
	for _, m := range l.models.Order {
		tables[[2]string{"gold", m.Name}] = m.Root()
	}
	for n, root := range tables {
		tb := lake.NewTable(l.store, root)
		snap, err := latestOrNil(ctx, tb)
		if err != nil {
			t.Fatal(err)
		}
		if snap != nil {
			if err := sess.RegisterTable(ctx, n[0], n[1], snap, engine.TableFiles(tb, l.cache)); err != nil {
				t.Fatal(err)
			}
		}
	}
	rows, err := sess.QueryContext(ctx, q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
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
	return out
}

// history is the gold commits of a model.
func (l *testLake) history(model string) []lake.CommitSummary {
	l.t.Helper()
	h, err := lake.NewTable(l.store, Root(model)).History(l.t.Context())
	if err != nil {
		l.t.Fatal(err)
	}
	return h
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func day(s string) Day {
	d, err := ParseDay(s)
	if err != nil {
		panic(err)
	}
	return d
}
