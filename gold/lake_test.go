package gold

import (
	"testing"
	"time"

	"github.com/lakectl/lakectl/internal/lakefixture"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/pipeline/jobenv"
)

// testLake is a file lake of the example pipeline, filled through Bronze and the real
// Silver job, with the Gold models of the pipeline.
type testLake struct {
	*lakefixture.Lake
	models *Models
}

var testEngine = lakefixture.Engine

func newTestLake(t *testing.T, models map[string]*string) *testLake {
	t.Helper()
	l := lakefixture.New(t, examplePipeline(t, models))
	ms, err := loadModels(t, l.Pipeline)
	if err != nil {
		t.Fatal(err)
	}
	return &testLake{Lake: l, models: ms}
}

func (l *testLake) job() *Job {
	return NewJob(Config{Env: jobenv.Env{Store: l.Store, Pipeline: l.Pipeline, Cache: l.Cache, Engine: testEngine}, Models: l.models})
}

// ev is one event of a test: user, type, amount, event time (RFC 3339).
type ev lakefixture.Event

// ingest commits events to bronze/events as ingested at ingested, moves the sealing
// mark to sealed, and runs Silver over every pending hour.
func (l *testLake) ingest(events []ev, ingested, sealed string) {
	l.T.Helper()
	l.Ingest(fixtureEvents(events), ingested, sealed)
}

func fixtureEvents(evs []ev) []lakefixture.Event {
	out := make([]lakefixture.Event, len(evs))
	for i, e := range evs {
		out[i] = lakefixture.Event(e)
	}
	return out
}

// rows runs q over the latest snapshots of silver.events and the gold tables and
// returns the rows as strings.
func (l *testLake) rows(q string) []string {
	l.T.Helper()
	tables := map[[2]string]string{}
	for _, m := range l.models.Order {
		tables[[2]string{"gold", m.Name}] = m.Root()
	}
	return l.Rows(q, tables)
}

// history is the gold commits of a model.
func (l *testLake) history(model string) []lake.CommitSummary { return l.History(Root(model)) }

func ts(s string) time.Time { return lakefixture.TS(s) }

func day(s string) Day {
	d, err := ParseDay(s)
	if err != nil {
		panic(err)
	}
	return d
}
