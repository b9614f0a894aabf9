package gold

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lakectl/lakectl/pipeline/jobenv"
	"github.com/lakectl/lakectl/silver"
)

// TestLateDimensionMakesItsDayStale: user u20000 is missing from ref/users when Silver
// runs the 21st, so its events are kept with no plan and wait (_missing_refs). Gold
// builds user_daily for the 20th and the 21st, and nothing is stale. Once u20000 is
// loaded, Silver's re-enrichment fills its rows; exactly the 21st of user_daily is
// stale, for that Silver commit, and rebuilding it gives u20000 its plan.
func TestLateDimensionMakesItsDayStale(t *testing.T) {
	l := newTestLake(t, nil)
	l.ingest([]ev{{"u1", "click", 0, "2026-11-20T08:00:00Z"}}, "2026-11-20T08:30:00Z", "2026-11-21T02:10:00Z")
	l.ingest([]ev{
		{"u1", "click", 0, "2026-11-21T08:00:00Z"},
		{"u20000", "purchase", 5, "2026-11-21T08:10:00Z"},
		{"u20000", "click", 0, "2026-11-21T09:10:00Z"},
	}, "2026-11-21T09:30:00Z", "2026-11-22T02:10:00Z")
	if got, want := l.rows("SELECT user_id, coalesce(plan, '-'), coalesce(_missing_refs, '-') FROM silver.events ORDER BY ALL"), []string{
		"u1 free -", "u1 free -", "u20000 - users", "u20000 - users",
	}; !slices.Equal(got, want) {
		t.Fatalf("silver.events = %q, want %q", got, want)
	}
	j := l.job()
	each := func(model string, d StaleDay, sum *Summary) {
		if sum == nil {
			t.Fatalf("%s %s not run: %s", model, d.Day, d.Completeness.Why)
		}
	}
	if err := j.RunStale(t.Context(), []string{"user_daily"}, false, each); err != nil {
		t.Fatal(err)
	}
	if st := staleDays(t, j, "user_daily"); len(st) != 0 {
		t.Fatalf("stale after the build: %v, want none", st)
	}
	if got, want := l.rows("SELECT event_date, user_id, coalesce(plan, '-'), events FROM gold.user_daily ORDER BY ALL"), []string{
		"2026-11-20 00:00:00 +0000 UTC u1 free 1",
		"2026-11-21 00:00:00 +0000 UTC u1 free 1",
		"2026-11-21 00:00:00 +0000 UTC u20000 - 2",
	}; !slices.Equal(got, want) {
		t.Fatalf("user_daily before the load = %q, want %q", got, want)
	}

	// u20000 arrives in the reference, and Silver re-enriches its rows.
	src, err := os.ReadFile(l.Pipeline.Path(l.Pipeline.Ref("users").File))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "users.csv")
	if err := os.WriteFile(file, append(src, "u20000,JP,pro\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := silver.LoadRef(t.Context(), l.Store, l.Sess, silver.RefSpecOf(*l.Pipeline.Ref("users"), file), time.Now()); err != nil {
		t.Fatal(err)
	}
	sj := silver.NewJob(silver.Config{Env: jobenv.Env{Store: l.Store, Pipeline: l.Pipeline, Cache: l.Cache, Engine: testEngine}})
	sum, err := sj.Reenrich(t.Context(), "events")
	if err != nil {
		t.Fatal(err)
	}
	if sum.Filled != 2 || sum.Version < 0 {
		t.Fatalf("re-enrichment = %+v, want u20000's 2 rows filled in a commit", sum)
	}

	st := staleDays(t, j, "user_daily")
	if len(st) != 1 {
		t.Fatalf("stale after the re-enrichment: %v, want only 2026-11-21", st)
	}
	rs, ok := st[day("2026-11-21")]
	if !ok || len(rs) != 1 || rs[0].Kind != ReasonInput || rs[0].Input != silver.Root("events") ||
		!slices.Equal(rs[0].Versions, []int64{sum.Version}) || !slices.Equal(rs[0].Days, []Day{day("2026-11-21")}) {
		t.Fatalf("stale after the re-enrichment: %v, want 2026-11-21 for silver/events v%d", st, sum.Version)
	}
	if s, want := rs[0].String(), fmt.Sprintf("v%d ", sum.Version); !strings.Contains(s, want) {
		t.Errorf("reason %q does not name the re-enrichment commit v%d", s, sum.Version)
	}

	var ran []string
	if err := j.RunStale(t.Context(), []string{"user_daily"}, false, func(model string, d StaleDay, s *Summary) {
		each(model, d, s)
		ran = append(ran, model+" "+d.Day.String())
	}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"user_daily 2026-11-21"}; !slices.Equal(ran, want) {
		t.Errorf("--stale rebuilt %v, want %v", ran, want)
	}
	if got, want := l.rows("SELECT event_date, user_id, coalesce(plan, '-'), events FROM gold.user_daily ORDER BY ALL"), []string{
		"2026-11-20 00:00:00 +0000 UTC u1 free 1",
		"2026-11-21 00:00:00 +0000 UTC u1 free 1",
		"2026-11-21 00:00:00 +0000 UTC u20000 pro 2",
	}; !slices.Equal(got, want) {
		t.Errorf("user_daily after the rebuild = %q, want %q", got, want)
	}
	if st := staleDays(t, j, "user_daily"); len(st) != 0 {
		t.Errorf("stale after the rebuild: %v, want none", st)
	}
}
