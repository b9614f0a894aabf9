package views

import (
	"encoding/json"
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

var testEngine = engine.Config{Threads: 2, MemoryLimit: "1GiB"}

// examplePipeline writes the example pipeline into a temporary directory, with the
// views of files replacing (or, nil, removing) the example's.
func examplePipeline(t testing.TB, files map[string]*string) *pipeline.Pipeline {
	t.Helper()
	dir := t.TempDir()
	if _, err := pipeline.WriteExample(dir); err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		path := filepath.Join(dir, Dir, name+".sql")
		if body == nil {
			os.Remove(path)
			continue
		}
		if err := os.WriteFile(path, []byte(*body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, err := pipeline.Load(dir, pipeline.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// testLake is a file lake of the example pipeline, filled through Bronze and the real
// Silver job.
type testLake struct {
	t      *testing.T
	p      *pipeline.Pipeline
	store  lake.Store
	sess   *engine.Session
	cache  *cache.Cache
	views  *Views
	offset int64
}

func newTestLake(t *testing.T, files map[string]*string) *testLake {
	t.Helper()
	p := examplePipeline(t, files)
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
	vs, err := Load(t.Context(), p, testEngine)
	if err != nil {
		t.Fatal(err)
	}
	return &testLake{t: t, p: p, store: store, sess: sess, cache: cache.New(store, filepath.Join(t.TempDir(), "cache"), 0), views: vs}
}

func (l *testLake) job(hook func(string)) *Job {
	return NewJob(Config{Env: jobenv.Env{Store: l.store, Pipeline: l.p, Cache: l.cache, Engine: testEngine, Hook: hook}, Views: l.views})
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
	l.t.Helper()
	var payloads []map[string]any
	for i, e := range events {
		payloads = append(payloads, map[string]any{"event_id": fmt.Sprintf("e%d", l.offset+int64(i)+1), "user_id": e.user, "event_type": e.typ,
			"amount": e.amount, "timestamp": e.at})
	}
	l.ingestPayloads(payloads, ingested, sealed)
}

// ingestPayloads is ingest of the payloads as given.
func (l *testLake) ingestPayloads(payloads []map[string]any, ingested, sealed string) {
	t, ctx := l.t, l.t.Context()
	t.Helper()
	var raw [][]byte
	for _, p := range payloads {
		b, _ := json.Marshal(p)
		raw = append(raw, b)
	}
	bronzefixture.Commit(t, l.sess, l.store, "events", l.offset, raw, ts(ingested), ts(sealed))
	l.offset += int64(len(payloads))
	sj := silver.NewJob(silver.Config{Env: jobenv.Env{Store: l.store, Pipeline: l.p, Cache: l.cache, Engine: testEngine}})
	hours, err := sj.Pending(ctx, "events")
	if err != nil {
		t.Fatal(err)
	}
	if err := sj.RunHours(ctx, "events", hours, silver.RunOptions{}, nil); err != nil {
		t.Fatal(err)
	}
}

// rows runs q over the latest snapshots of silver.events and the views and returns
// the rows as strings.
func (l *testLake) rows(q string) []string {
	t, ctx := l.t, l.t.Context()
	t.Helper()
	sess, err := engine.Open(ctx, testEngine)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	tables := map[[2]string]string{{"silver", "events"}: silver.Root("events")}
	for _, v := range l.views.Order {
		tables[[2]string{"views", v.Name}] = v.Root()
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

// moveU3ToEnterprise loads a new version of ref.users in which user u3 is on the
// enterprise plan instead of pro, valid from validFrom (zero: from the load).
func (l *testLake) moveU3ToEnterprise(validFrom time.Time) {
	t := l.t
	t.Helper()
	src, err := os.ReadFile(l.p.Path(l.p.Ref("users").File))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "users.csv")
	if err := os.WriteFile(file, []byte(strings.Replace(string(src), "\nu3,NL,pro\n", "\nu3,NL,enterprise\n", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := silver.RefSpecOf(*l.p.Ref("users"), file)
	spec.ValidFrom = validFrom
	if _, err := silver.LoadRef(t.Context(), l.store, l.sess, spec, time.Now()); err != nil {
		t.Fatal(err)
	}
}

// history is the commits of a view.
func (l *testLake) history(view string) []lake.CommitSummary {
	l.t.Helper()
	h, err := lake.NewTable(l.store, Root(view)).History(l.t.Context())
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
