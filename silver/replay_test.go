package silver

import (
	"slices"
	"strings"
	"testing"
)

// TestReplayAfterContractFix quarantines refunds under a contract that forgot them,
// fixes the contract, and replays: the refund lands in Silver once and leaves the
// quarantine; the rows that still fail stay.
func TestReplayAfterContractFix(t *testing.T) {
	l := newTestLake(t)
	l.ingest(hour8(), ts("2026-11-21T09:10:00Z"))
	f := l.p.Table("events").Field("event_type")
	fixed := f.In
	f.In = slices.DeleteFunc(slices.Clone(fixed), func(s string) bool { return s == "refund" })
	if _, err := l.job().RunHour(t.Context(), "events", hourAt("2026-11-21T08"), RunOptions{}); err != nil {
		t.Fatal(err)
	}
	list, err := l.job().ListQuarantine(t.Context(), "events")
	if err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for _, rc := range list {
		reasons = append(reasons, rc.Reason)
	}
	if len(list) != 3 || !strings.Contains(strings.Join(reasons, "|"), `event_type: "refund" is not one of`) {
		t.Fatalf("quarantine by reason = %v, want three reasons, one for the refund", reasons)
	}

	f.In = fixed
	sum, err := l.job().Replay(t.Context(), "events", ReplayOptions{Reason: "event_type"})
	if err != nil {
		t.Fatal(err)
	}
	if sum.RowsIn != 1 || sum.Valid != 1 || sum.Written != 1 {
		t.Errorf("replay summary = %+v, want 1 row in, valid and written", sum)
	}
	var n, refunds, q int64
	l.query(`SELECT count(*), count(*) FILTER (event_type = 'refund'), (SELECT count(*) FROM quarantine.events) FROM silver.events`, &n, &refunds, &q)
	if n != 4 || refunds != 1 || q != 2 {
		t.Errorf("after replay: silver %d rows (%d refunds), quarantine %d; want 4 (1), 2", n, refunds, q)
	}

	before := l.files(Root("events"))
	again, err := l.job().Replay(t.Context(), "events", ReplayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if again.Valid != 0 || again.RowsIn != 2 {
		t.Errorf("second replay = %+v, want the 2 rows that still fail and nothing valid", again)
	}
	if got := l.files(Root("events")); !slices.Equal(got, before) {
		t.Errorf("second replay changed silver")
	}
}

// TestReplayKilledThenContractFixedAgain: a replay dies after its Silver commit,
// before it removes the rows from the quarantine; the contract is then fixed further
// and replayed again. The rows that pass only under the second fix must reach Silver
// before they leave the quarantine.
func TestReplayKilledThenContractFixedAgain(t *testing.T) {
	l := newTestLake(t)
	l.ingest(hour8(), ts("2026-11-21T09:10:00Z"))
	f := l.p.Table("events").Field("event_type")
	full := f.In
	f.In = slices.DeleteFunc(slices.Clone(full), func(s string) bool { return s == "refund" || s == "purchase" })
	if _, err := l.job().RunHour(t.Context(), "events", hourAt("2026-11-21T08"), RunOptions{}); err != nil {
		t.Fatal(err)
	}
	f.In = slices.DeleteFunc(slices.Clone(full), func(s string) bool { return s == "refund" })
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("replay did not reach its crash point")
			}
		}()
		l.crashAt(HookCommitted).Replay(t.Context(), "events", ReplayOptions{})
	}()
	f.In = full
	if _, err := l.job().Replay(t.Context(), "events", ReplayOptions{}); err != nil {
		t.Fatal(err)
	}
	var n, refunds, q int64
	l.query(`SELECT count(*), count(*) FILTER (event_type = 'refund'), (SELECT count(*) FROM quarantine.events) FROM silver.events`, &n, &refunds, &q)
	if n != 4 || refunds != 1 || q != 2 {
		t.Errorf("silver %d rows (%d refunds), quarantine %d; want 4 (1), 2", n, refunds, q)
	}
}
