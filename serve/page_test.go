package serve

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/views"
)

// pageRows is the text of each row of the page's table id, cells joined by " | ".
func pageRows(t *testing.T, page, id string) []string {
	t.Helper()
	start := strings.Index(page, `<table id="`+id+`">`)
	if start < 0 {
		t.Fatalf("no table %s in the page", id)
	}
	body := page[start:]
	body = body[:strings.Index(body, "</table>")]
	tags := regexp.MustCompile(`<[^>]*>`)
	var rows []string
	for _, tr := range strings.Split(body, "<tr>")[2:] { // [0] is before, [1] the header
		var cells []string
		for _, td := range strings.Split(tr, "<td")[1:] {
			cells = append(cells, strings.TrimSpace(tags.ReplaceAllString("<td"+td, "")))
		}
		rows = append(rows, strings.Join(cells, " | "))
	}
	return rows
}

// The status page shows the streams and their sealing, each table's version, each
// consumer's freshness against its SLO, and the task runs.
func TestStatusPage(t *testing.T) {
	l, srv := servedLake(t, Auth{})
	resp, body := get(t, srv.URL+"/")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("%s: %s", resp.Status, body)
	}
	page := string(body)
	if got := pageRows(t, page, "streams"); len(got) != 1 || !strings.HasPrefix(got[0], "events | ") || !strings.Contains(got[0], "| 2026-11-21T05:55:00Z |") {
		t.Errorf("streams: %q, want events sealed through 06:00 less its 5m grace", got)
	}
	snap, err := lake.NewTable(l.store(), views.Root("hourly_trends")).Latest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	tables := pageRows(t, page, "tables")
	for _, want := range []string{"Silver | events | v", "Gold | daily_metrics | v", fmt.Sprintf("view | hourly_trends | v%d", snap.Version)} {
		if !slices.ContainsFunc(tables, func(r string) bool { return strings.HasPrefix(r, want) }) {
			t.Errorf("tables: %q lack %q", tables, want)
		}
	}
	consumers := pageRows(t, page, "consumers")
	if len(consumers) != 3 || !slices.ContainsFunc(consumers, func(r string) bool { return strings.HasPrefix(r, "finance | ") && strings.Contains(r, "| 26h0m0s | ") }) {
		t.Errorf("consumers: %q, want three, finance with its 26h SLO", consumers)
	}
	if !strings.Contains(page, `<rect class="`) {
		t.Error("no freshness chart")
	}
	tasks := pageRows(t, page, "tasks")
	if !slices.ContainsFunc(tasks, func(r string) bool { return strings.HasPrefix(r, "silver/events | @every 1m0s | 1 | 0 | ") }) {
		t.Errorf("tasks: %q, want silver/events run once without failure", tasks)
	}
	if got := pageRows(t, page, "stale"); len(got) != 1 || got[0] != "none" {
		t.Errorf("stale days: %q, want none", got)
	}
}
