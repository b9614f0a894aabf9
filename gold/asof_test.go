package gold

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lakectl/lakectl/pipeline"
	"github.com/lakectl/lakectl/silver"
)

// TestUserDailyPlanChange: user u3 changes plan from pro to enterprise at 12:00, and
// Silver enriches as_of: event_time. user_daily's day shows u3 with a row for each
// plan its events carried: the event before 12:00 under pro, those from 12:00 on
// (with the purchase) under enterprise.
func TestUserDailyPlanChange(t *testing.T) {
	l := newTestLake(t, nil)
	l.Pipeline.Table("events").Enrich[0].AsOf = pipeline.AsOfEventTime
	src, err := os.ReadFile(l.Pipeline.Path(l.Pipeline.Ref("users").File))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "users.csv")
	if err := os.WriteFile(file, []byte(strings.Replace(string(src), "\nu3,NL,pro\n", "\nu3,NL,enterprise\n", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := silver.RefSpecOf(*l.Pipeline.Ref("users"), file)
	spec.ValidFrom = ts("2026-11-21T12:00:00Z")
	if _, err := silver.LoadRef(t.Context(), l.Store, l.Sess, spec, time.Now()); err != nil {
		t.Fatal(err)
	}
	l.ingest([]ev{
		{"u3", "click", 0, "2026-11-21T11:59:59Z"},
		{"u3", "click", 0, "2026-11-21T12:00:00Z"},
		{"u3", "purchase", 10.5, "2026-11-21T12:30:00Z"},
		{"u1", "purchase", 2, "2026-11-21T12:30:00Z"},
	}, "2026-11-21T12:31:00Z", "2026-11-22T02:10:00Z")
	if _, err := l.job().RunDay(t.Context(), "user_daily", day("2026-11-21"), RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, want := l.rows("SELECT user_id, plan, events, spend, event_types FROM gold.user_daily ORDER BY ALL"), []string{
		"u1 free 1 2 [purchase]",
		"u3 enterprise 2 10.5 [click purchase]",
		"u3 pro 1 0 [click]",
	}; !slices.Equal(got, want) {
		t.Errorf("user_daily = %q, want %q", got, want)
	}
}
