package views

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lakectl/lakectl/internal/lakefixture"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/pipeline"
	"github.com/lakectl/lakectl/pipeline/jobenv"
)

var testEngine = lakefixture.Engine

// examplePipeline writes the example pipeline into a temporary directory, with the
// views of files replacing (or, nil, removing) the example's.
func examplePipeline(t testing.TB, files map[string]*string) *pipeline.Pipeline {
	return lakefixture.ExamplePipeline(t, Dir, files)
}

// testLake is a file lake of the example pipeline, filled through Bronze and the real
// Silver job, with the views of the pipeline.
type testLake struct {
	*lakefixture.Lake
	views *Views
}

func newTestLake(t *testing.T, files map[string]*string) *testLake {
	t.Helper()
	l := lakefixture.New(t, examplePipeline(t, files))
	vs, err := Load(t.Context(), l.Pipeline, testEngine)
	if err != nil {
		t.Fatal(err)
	}
	return &testLake{Lake: l, views: vs}
}

func (l *testLake) job(hook func(string)) *Job {
	return NewJob(Config{Env: jobenv.Env{Store: l.Store, Pipeline: l.Pipeline, Cache: l.Cache, Engine: testEngine, Hook: hook}, Views: l.views})
}

// ev is one event of a test: user, type, amount, event time (RFC 3339).
type ev lakefixture.Event

// ingest commits events to bronze/events as ingested at ingested, moves the sealing
// mark to sealed, and runs Silver over every pending hour.
func (l *testLake) ingest(events []ev, ingested, sealed string) {
	l.T.Helper()
	evs := make([]lakefixture.Event, len(events))
	for i, e := range events {
		evs[i] = lakefixture.Event(e)
	}
	l.Ingest(evs, ingested, sealed)
}

// rows runs q over the latest snapshots of silver.events and the views and returns
// the rows as strings.
func (l *testLake) rows(q string) []string {
	l.T.Helper()
	tables := map[[2]string]string{}
	for _, v := range l.views.Order {
		tables[[2]string{"views", v.Name}] = v.Root()
	}
	return l.Rows(q, tables)
}

// moveU3ToEnterprise loads a new version of ref.users in which user u3 is on the
// enterprise plan instead of pro, valid from validFrom (zero: from the load).
func (l *testLake) moveU3ToEnterprise(validFrom time.Time) {
	t := l.T
	t.Helper()
	src, err := os.ReadFile(l.Pipeline.Path(l.Pipeline.Ref("users").File))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "users.csv")
	if err := os.WriteFile(file, []byte(strings.Replace(string(src), "\nu3,NL,pro\n", "\nu3,NL,enterprise\n", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	l.LoadRef(file, validFrom)
}

// history is the commits of a view.
func (l *testLake) history(view string) []lake.CommitSummary { return l.History(Root(view)) }

func ts(s string) time.Time { return lakefixture.TS(s) }
