package silver

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/lakectl/lakectl/lake"
)

// TestEnrichColumnsMissingFromReference: an enrichment that names a column the
// reference table lacks stops the run before any SQL, with an error that names the
// reference table and the columns it has, and nothing is written.
func TestEnrichColumnsMissingFromReference(t *testing.T) {
	cases := []struct {
		name, refKey string
		columns      []string
		missing      []string
	}{
		{"column", "user_id", []string{"country", "tier"}, []string{"tier"}},
		{"reference key", "uid", []string{"country"}, []string{"uid"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := newTestLake(t)
			l.ingest(hour8(), ts("2026-11-21T09:10:00Z"))
			e := &l.p.Table("events").Enrich[0]
			e.RefKey, e.Columns = tc.refKey, tc.columns
			_, err := l.job().RunHour(t.Context(), "events", hourAt("2026-11-21T08"), RunOptions{})
			var rerr *RefColumnsError
			if !errors.As(err, &rerr) {
				t.Fatalf("err = %v, want a *RefColumnsError", err)
			}
			if rerr.Ref != "users" || !slices.Equal(rerr.Missing, tc.missing) || !slices.Equal(rerr.Have, []string{"user_id", "country", "plan"}) {
				t.Errorf("error = %+v, want users missing %v, having user_id, country, plan", rerr, tc.missing)
			}
			if msg := err.Error(); !strings.Contains(msg, "reference table users") || !strings.Contains(msg, "user_id, country, plan") {
				t.Errorf("message %q does not name the reference table and its columns", msg)
			}
			if _, err := lake.NewTable(l.store, Root("events")).Latest(t.Context()); !errors.Is(err, lake.ErrNoTable) {
				t.Errorf("silver.events after the failed run: %v, want no table", err)
			}
		})
	}
}
