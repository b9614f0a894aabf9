package lake_test

import (
	"testing"
	"time"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/deltatest"
	"github.com/lakectl/lakectl/lake/mem"
)

// Two writers whose clocks disagree still leave commit times that grow with the
// version, so time travel gives one consistent answer: a version is in the table as of
// a time only if every version before it is too.
func TestCommitTimesGrowDespiteClockSkew(t *testing.T) {
	ctx := t.Context()
	store := mem.New()
	right := &clock{now: t0}
	ahead := &clock{now: t0.Add(5 * time.Hour)} // a writer whose clock runs 5h fast
	w := lake.NewTable(store, "t", lake.WithClock(right.Now))
	fast := lake.NewTable(store, "t", lake.WithClock(ahead.Now))
	if err := deltatest.Create(ctx, w); err != nil {
		t.Fatal(err)
	}
	// v1 by the right clock at t0+1h, v2 by the fast one ("t0+6h"), v3 and v4 by the
	// right clock at t0+2h and t0+3h.
	for i, step := range []struct {
		tbl *lake.Table
		at  time.Duration
	}{{w, 1 * time.Hour}, {fast, 1*time.Hour + 30*time.Minute}, {w, 2 * time.Hour}, {w, 3 * time.Hour}} {
		right.now = t0.Add(step.at)
		ahead.now = right.now.Add(5 * time.Hour)
		if _, err := deltatest.Append(ctx, step.tbl, "w", i+1); err != nil {
			t.Fatal(err)
		}
	}
	hist, err := w.History(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(hist); i++ {
		if !hist[i].Timestamp.After(hist[i-1].Timestamp) {
			t.Errorf("v%d committed at %s, not after v%d at %s", hist[i].Version, hist[i].Timestamp, hist[i-1].Version, hist[i-1].Timestamp)
		}
	}
	// As of t0+5h (by the right clock) v2, stamped t0+6h30m, is not in the table yet, so
	// neither are v3 and v4 that came after it.
	right.now = t0.Add(8 * time.Hour)
	s, err := w.AsOf(ctx, t0.Add(5*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if s.Version != 1 {
		t.Errorf("as of t0+5h: v%d, want v1 (v2 is stamped t0+6h30m)", s.Version)
	}
}
