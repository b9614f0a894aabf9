package silver

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/mem"
)

// TestReprocessWritesOnlyLostRows: a reprocessed hour is run again, not skipped; on an
// intact table it writes nothing, and after its Silver file is removed from the table
// it writes the hour's rows again, exactly once.
func TestReprocessWritesOnlyLostRows(t *testing.T) {
	l := newTestLake(t)
	l.ingest(hour8(), ts("2026-11-21T09:10:00Z"))
	job := l.job()
	h := hourAt("2026-11-21T08")
	if _, err := job.RunHour(t.Context(), "events", h, RunOptions{}); err != nil {
		t.Fatal(err)
	}
	sum, err := job.RunHour(t.Context(), "events", h, RunOptions{Reprocess: true})
	if err != nil || sum.Skipped || sum.Written != 0 || sum.Quarantined != 0 {
		t.Fatalf("reprocess of an intact hour: %+v, %v; want a run that writes nothing", sum, err)
	}

	silver := lake.NewTable(l.store, Root("events"))
	snap, err := silver.Latest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var lost []lake.FileProblem
	for _, a := range snap.Files() {
		if p, _ := partitionOf(a); p == (Partition{"2026-11-21", 8}) {
			lost = append(lost, lake.FileProblem{File: a, Kind: lake.ProblemMissing})
			if err := l.store.Delete(t.Context(), silver.Key(a.DecodedPath())); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := silver.Repair(t.Context(), snap, lost); err != nil {
		t.Fatal(err)
	}
	sum, err = job.RunHour(t.Context(), "events", h, RunOptions{Reprocess: true})
	if err != nil || sum.Written != 3 {
		t.Fatalf("reprocess after the loss: %+v, %v; want the 3 rows of partition 08 written again", sum, err)
	}
	var n, distinct, q int64
	l.query(`SELECT count(*), count(DISTINCT event_id) FROM silver.events`, &n, &distinct)
	l.query(`SELECT count(*) FROM quarantine.events`, &q)
	if n != 4 || distinct != 4 || q != 2 {
		t.Errorf("silver rows, distinct, quarantined = %d, %d, %d; want 4, 4, 2", n, distinct, q)
	}
}

// restoreTable is a Silver table whose runs of hours 07..11 touched these partitions
// (hour 07's event came from a producer whose clock was ahead):
//
//	07: 2026-11-20/08   08: 2026-11-20/08   09: 2026-11-20/09, 2026-11-20/08
//	10: 2026-11-20/10   11: 2026-11-20/11
//
// plus a partial run of hour 12 and a quarantine replay. It returns the latest
// snapshot and the history.
func restoreTable(t *testing.T) (*lake.Snapshot, []lake.CommitSummary) {
	ctx := t.Context()
	tbl := lake.NewTable(mem.New(), Root("events"))
	schema, err := lake.NewSchema(
		lake.NewField("event_id", lake.Primitive("string"), false),
		lake.NewField(ColEventDate, lake.Primitive("date"), false),
		lake.NewField(ColEventHour, lake.Primitive("integer"), false),
	).JSON()
	if err != nil {
		t.Fatal(err)
	}
	runs := []struct {
		app   string
		hour  string
		parts []Partition
	}{
		{"2026-11-20T07", "2026-11-20T07", []Partition{{"2026-11-20", 8}}},
		{"2026-11-20T08", "2026-11-20T08", []Partition{{"2026-11-20", 8}}},
		{"2026-11-20T09", "2026-11-20T09", []Partition{{"2026-11-20", 9}, {"2026-11-20", 8}}},
		{"2026-11-20T10", "2026-11-20T10", []Partition{{"2026-11-20", 10}}},
		{"2026-11-20T11", "2026-11-20T11", []Partition{{"2026-11-20", 11}}},
		{"2026-11-20T12/partial", "2026-11-20T12", []Partition{{"2026-11-20", 8}}},
		{"replay", "", []Partition{{"2026-11-20", 8}}},
	}
	var snap *lake.Snapshot
	for i, r := range runs {
		tx := tbl.Begin(snap)
		if snap == nil {
			tx.SetMetadata(lake.Metadata{Name: "events", SchemaString: schema, PartitionColumns: []string{ColEventDate, ColEventHour}})
		}
		for j, p := range r.parts {
			date, hour := p.Date, fmt.Sprint(p.Hour)
			tx.Add(lake.Add{Path: fmt.Sprintf("event_date=%s/event_hour=%s/part-%d-%d.parquet", date, hour, i, j),
				PartitionValues: map[string]*string{ColEventDate: &date, ColEventHour: &hour}, Size: 1, DataChange: true})
		}
		tx.SetTxn("silver/events/"+r.app, int64(i))
		tx.Operation("WRITE", nil)
		if r.hour != "" {
			tx.Info("ingestHour", r.hour)
			tx.Info("sealed", !strings.HasSuffix(r.app, "/partial"))
		}
		tx.Info("partitions", r.parts)
		if _, err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if snap, err = tbl.Latest(ctx); err != nil {
			t.Fatal(err)
		}
	}
	history, err := tbl.History(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return snap, history
}

func TestRestorePlan(t *testing.T) {
	snap, history := restoreTable(t)
	filesOf := func(ps ...Partition) []lake.Add {
		var out []lake.Add
		for _, a := range snap.Files() {
			if p, _ := partitionOf(a); slices.Contains(ps, p) {
				out = append(out, a)
			}
		}
		return out
	}
	p := func(h int) Partition { return Partition{"2026-11-20", h} }
	for _, tt := range []struct {
		name     string
		history  []lake.CommitSummary
		lost     []Partition
		from, to string
	}{
		{"every hour that wrote the partition, an early one included", history, []Partition{p(8)}, "2026-11-20T07", "2026-11-20T09"},
		{"one hour", history, []Partition{p(10)}, "2026-11-20T10", "2026-11-20T10"},
		{"several partitions", history, []Partition{p(9), p(11)}, "2026-11-20T09", "2026-11-20T11"},
		// With the first commits vacuumed, the hours before the partition's own may be
		// unknown: the range starts no later than it.
		{"older commits expired", history[2:], []Partition{p(8)}, "2026-11-20T08", "2026-11-20T09"},
		{"no commit left that touched it", history[5:], []Partition{p(9)}, "2026-11-20T09", "2026-11-20T11"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := RestorePlan(snap, tt.history, filesOf(tt.lost...))
			if !ok || r.Table != "events" || !slices.Equal(r.Partitions, tt.lost) || r.From.String() != tt.from || r.To.String() != tt.to {
				t.Errorf("plan = %+v, %v; want events %v from %s to %s", r, ok, tt.lost, tt.from, tt.to)
			}
		})
	}

	notSilver := *snap
	notSilver.Metadata.PartitionColumns = []string{"p"}
	if r, ok := RestorePlan(&notSilver, history, filesOf(p(8))); ok {
		t.Errorf("plan for a table not partitioned like Silver: %+v", r)
	}
	if r, ok := RestorePlan(snap, history, nil); ok {
		t.Errorf("plan with nothing removed: %+v", r)
	}
}
