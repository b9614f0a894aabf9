package silver

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/pipeline"
	"github.com/lakectl/lakectl/pipeline/jobenv"
)

// addUsers loads a new version of ref/users: the example's users and lines (CSV rows
// user_id,country,plan), valid from the load's time.
func (l *testLake) addUsers(lines ...string) {
	t := l.t
	t.Helper()
	src, err := os.ReadFile(l.p.Path(l.p.Ref("users").File))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "users.csv")
	if err := os.WriteFile(file, []byte(string(src)+strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadRef(t.Context(), l.store, l.sess, RefSpecOf(*l.p.Ref("users"), file), time.Now()); err != nil {
		t.Fatal(err)
	}
}

// lateHour is ingest hour 09 with events of a known user (u1) and two users missing
// from the reference (u20000, u20001), in event hours 07, 08 and 09.
func lateHour() []rec {
	in := ts("2026-11-21T09:30:00Z")
	return []rec{
		{0, 0, in, event("e1", "u1", "click", 0, ts("2026-11-21T07:10:00Z"))},
		{0, 1, in, event("e2", "u20000", "click", 0, ts("2026-11-21T08:10:00Z"))},
		{0, 2, in, event("e3", "u1", "click", 0, ts("2026-11-21T08:20:00Z"))},
		{0, 3, in, event("e4", "u20000", "purchase", 5, ts("2026-11-21T09:10:00Z"))},
		{0, 4, in, event("e5", "u20001", "click", 0, ts("2026-11-21T09:15:00Z"))},
	}
}

// rowsOf lists every Silver row as text, by event id.
func (l *testLake) rowsOf() string {
	l.t.Helper()
	var s string
	l.query(`SELECT string_agg(CAST(t AS VARCHAR), chr(10) ORDER BY event_id) FROM silver.events t`, &s)
	return s
}

// filesByPartition maps each partition of silver.events to its sorted data files.
func (l *testLake) filesByPartition() map[Partition][]string {
	l.t.Helper()
	snap, err := latestOrNil(l.t.Context(), lake.NewTable(l.store, Root("events")))
	if err != nil {
		l.t.Fatal(err)
	}
	out := map[Partition][]string{}
	for _, a := range snap.Files() {
		p, _ := partitionOf(a)
		out[p] = append(out[p], a.Path)
	}
	for p := range out {
		slices.Sort(out[p])
	}
	return out
}

// TestLateDimension: events whose users are not in the reference are stored with an
// empty plan and marked; once u20000 is loaded, Reenrich fills exactly u20000's rows,
// rewriting only the partitions that hold them in one commit that names them, and
// u20001 keeps waiting.
func TestLateDimension(t *testing.T) {
	for _, asOf := range []string{pipeline.AsOfEventTime, pipeline.AsOfCurrent} {
		t.Run(asOf, func(t *testing.T) {
			l := newTestLake(t)
			l.p.Table("events").Enrich[0].AsOf = asOf
			l.ingest(lateHour(), ts("2026-11-21T10:10:00Z"))
			job := l.job()
			if _, err := job.RunHour(t.Context(), "events", hourAt("2026-11-21T09"), RunOptions{}); err != nil {
				t.Fatal(err)
			}
			var marked string
			l.query(`SELECT string_agg(event_id || ':' || coalesce(_missing_refs, '-') || ':' || coalesce(plan, '-'), ' ' ORDER BY event_id) FROM silver.events`, &marked)
			if want := "e1:-:free e2:users:- e3:-:free e4:users:- e5:users:-"; marked != want {
				t.Errorf("after the run: %s, want %s", marked, want)
			}
			waiting, err := job.Waiting(t.Context(), "events")
			if err != nil {
				t.Fatal(err)
			}
			if want := map[string]int64{"users": 3}; !maps.Equal(waiting, want) {
				t.Errorf("waiting = %v, want %v", waiting, want)
			}
			// Nothing to fill yet: no commit.
			sum, err := job.Reenrich(t.Context(), "events")
			if err != nil {
				t.Fatal(err)
			}
			if sum.Waiting != 3 || sum.Filled != 0 || sum.Version != -1 {
				t.Errorf("re-enrichment before the load = %+v, want 3 waiting, none filled, no commit", sum)
			}

			before, filesBefore := l.rowsOf(), l.filesByPartition()
			l.addUsers("u20000,JP,pro")
			if sum, err = job.Reenrich(t.Context(), "events"); err != nil {
				t.Fatal(err)
			}
			wantParts := []Partition{{"2026-11-21", 8}, {"2026-11-21", 9}}
			if sum.Waiting != 3 || sum.Filled != 2 || !slices.Equal(sum.Partitions, wantParts) || sum.Version != 1 {
				t.Errorf("re-enrichment = %+v, want 3 waiting, 2 filled in %v, v1", sum, wantParts)
			}
			l.query(`SELECT string_agg(event_id || ':' || coalesce(_missing_refs, '-') || ':' || coalesce(plan, '-'), ' ' ORDER BY event_id) FROM silver.events`, &marked)
			if want := "e1:-:free e2:-:pro e3:-:free e4:-:pro e5:users:-"; marked != want {
				t.Errorf("after the re-enrichment: %s, want %s", marked, want)
			}
			// Every row but u20000's is as it was.
			after := l.rowsOf()
			keep := func(s string) []string {
				return slices.DeleteFunc(strings.Split(s, "\n"), func(r string) bool { return strings.Contains(r, "u20000") })
			}
			if !slices.Equal(keep(before), keep(after)) {
				t.Errorf("rows other than u20000's changed:\n%s\nwant\n%s", after, before)
			}
			filesAfter := l.filesByPartition()
			if p := (Partition{"2026-11-21", 7}); !slices.Equal(filesAfter[p], filesBefore[p]) {
				t.Errorf("partition %s: files %v, want the untouched %v", p, filesAfter[p], filesBefore[p])
			}
			for _, p := range wantParts {
				if slices.Equal(filesAfter[p], filesBefore[p]) {
					t.Errorf("partition %s was not rewritten", p)
				}
			}
			hist, err := lake.NewTable(l.store, Root("events")).History(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			last := hist[len(hist)-1]
			parts, _ := json.Marshal(last.Info["partitions"])
			if last.Info["job"] != "silver reenrich" || string(parts) != `[{"event_date":"2026-11-21","event_hour":8},{"event_date":"2026-11-21","event_hour":9}]` {
				t.Errorf("commitInfo job %v partitions %s, want silver reenrich of 08 and 09", last.Info["job"], parts)
			}
			if waiting, err = job.Waiting(t.Context(), "events"); err != nil {
				t.Fatal(err)
			}
			if want := map[string]int64{"users": 1}; !maps.Equal(waiting, want) {
				t.Errorf("waiting after = %v, want %v", waiting, want)
			}
		})
	}
}

// TestLateDimensionQuarantine: with on_missing: quarantine an event whose user is
// missing waits in quarantine with a reason naming the reference and the key, and a
// replay takes it once the reference has the user.
func TestLateDimensionQuarantine(t *testing.T) {
	l := newTestLake(t)
	e := &l.p.Table("events").Enrich[0]
	e.AsOf, e.OnMissing = pipeline.AsOfEventTime, pipeline.MissingQuarantine
	l.ingest(lateHour(), ts("2026-11-21T10:10:00Z"))
	job := l.job()
	if _, err := job.RunHour(t.Context(), "events", hourAt("2026-11-21T09"), RunOptions{}); err != nil {
		t.Fatal(err)
	}
	reasons, err := job.ListQuarantine(t.Context(), "events")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range reasons {
		got = append(got, r.Reason)
	}
	if want := []string{`users: no row for user_id "u20000"`, `users: no row for user_id "u20001"`}; !slices.Equal(got, want) {
		t.Errorf("quarantine reasons = %q, want %q", got, want)
	}
	l.addUsers("u20000,JP,pro")
	sum, err := job.Replay(t.Context(), "events", ReplayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Written != 2 {
		t.Errorf("replay wrote %d rows, want u20000's 2", sum.Written)
	}
	var rows string
	l.query(`SELECT string_agg(event_id || ':' || coalesce(plan, '-'), ' ' ORDER BY event_id) FROM silver.events`, &rows)
	if want := "e1:free e2:pro e3:free e4:pro"; rows != want {
		t.Errorf("silver after the replay: %s, want %s", rows, want)
	}
	var left int64
	l.query(`SELECT count(*) FROM quarantine.events`, &left)
	if left != 1 {
		t.Errorf("quarantine holds %d rows after the replay, want u20001's 1", left)
	}
}

// crashed is the panic a test hook raises to stop a run at a point, as a crash would.
type crashed string

// TestReenrichCrash: a re-enrichment stopped after writing its files and before its
// commit leaves the table as it was (the files are unreferenced); stopped after the
// commit, every filled row is there. Running it again finishes the work either way.
func TestReenrichCrash(t *testing.T) {
	for _, point := range []string{HookFilesWritten, HookCommitted} {
		t.Run(point, func(t *testing.T) {
			l := newTestLake(t)
			l.ingest(lateHour(), ts("2026-11-21T10:10:00Z"))
			if _, err := l.job().RunHour(t.Context(), "events", hourAt("2026-11-21T09"), RunOptions{}); err != nil {
				t.Fatal(err)
			}
			before := l.rowsOf()
			l.addUsers("u20000,JP,pro")
			job := NewJob(Config{
				Env: jobenv.Env{Store: l.store, Pipeline: l.p, Cache: l.cache, Hook: func(at string) {
					if at == point {
						panic(crashed(at))
					}
				}},
			})
			func() {
				defer func() {
					if r := recover(); r != crashed(point) {
						t.Fatalf("recovered %v, want the crash at %s", r, point)
					}
				}()
				job.Reenrich(t.Context(), "events")
			}()
			var filled int64
			l.query(`SELECT count(*) FROM silver.events WHERE user_id = 'u20000' AND plan IS NOT NULL`, &filled)
			switch got := l.rowsOf(); {
			case point == HookFilesWritten && got != before:
				t.Errorf("after a crash before the commit:\n%s\nwant the old rows\n%s", got, before)
			case point == HookCommitted && filled != 2:
				t.Errorf("after a crash after the commit: %d of u20000's rows filled, want all 2", filled)
			}
			sum, err := l.job().Reenrich(t.Context(), "events")
			if err != nil {
				t.Fatal(err)
			}
			l.query(`SELECT count(*) FROM silver.events WHERE user_id = 'u20000' AND plan IS NOT NULL`, &filled)
			var rows int64
			l.query(`SELECT count(*) FROM silver.events`, &rows)
			if filled != 2 || rows != 5 {
				t.Errorf("after the crash and a second run (%+v): %d of u20000's rows filled, %d rows; want 2 of 5", sum, filled, rows)
			}
		})
	}
}

// TestMissingRefsColumnAdded: a Silver table written before _missing_refs existed
// gains the column at its next commit, also one that rewrites a stored partition;
// until then nothing waits, after it the new hour's rows that found no user do.
func TestMissingRefsColumnAdded(t *testing.T) {
	l := newTestLake(t)
	ctx := t.Context()
	l.ingest(hour8(), ts("2026-11-21T09:10:00Z"))
	job := l.job()
	if _, err := job.RunHour(ctx, "events", hourAt("2026-11-21T08"), RunOptions{}); err != nil {
		t.Fatal(err)
	}
	// Drop the column from the table's schema, as a table of an older lakectl has it.
	st := lake.NewTable(l.store, Root("events"))
	snap, err := st.Latest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	schema, err := snap.Schema()
	if err != nil {
		t.Fatal(err)
	}
	schema.Fields = slices.DeleteFunc(schema.Fields, func(f lake.Field) bool { return f.Name == ColMissingRefs })
	md := snap.Metadata
	if md.SchemaString, err = schema.JSON(); err != nil {
		t.Fatal(err)
	}
	tx := st.Begin(snap)
	tx.SetMetadata(md)
	if _, err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if waiting, err := job.Waiting(ctx, "events"); err != nil || len(waiting) != 0 {
		t.Errorf("waiting in a table without the column = %v, %v; want none", waiting, err)
	}
	l.ingest(lateHour(), ts("2026-11-21T10:10:00Z"))
	if _, err := job.RunHour(ctx, "events", hourAt("2026-11-21T09"), RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if snap, err = st.Latest(ctx); err != nil {
		t.Fatal(err)
	}
	if schema, err = snap.Schema(); err != nil {
		t.Fatal(err)
	}
	if f, ok := schema.Field(ColMissingRefs); !ok || !f.Nullable || f.Type != "string" {
		t.Errorf("schema after the next run: %s = %+v (present %v), want a nullable string", ColMissingRefs, f, ok)
	}
	waiting, err := job.Waiting(ctx, "events")
	if err != nil {
		t.Fatal(err)
	}
	// lateHour's e1 is earlier than hour8's and replaces it (a rewrite of partition
	// 08); its e2 and e5 are later than hour8's and lose; e4 of u20000 waits.
	if want := map[string]int64{"users": 1}; !maps.Equal(waiting, want) {
		t.Errorf("waiting = %v, want %v", waiting, want)
	}
}
