package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestTableHistory(t *testing.T) {
	e := newEvents(t)
	var got []historyRow
	if err := json.Unmarshal([]byte(mustLakectl(t, "table", "history", e.dir, "--json")), &got); err != nil {
		t.Fatal(err)
	}
	want := []historyRow{
		{Version: 0, Operation: "CREATE TABLE", FilesAdded: 1},
		{Version: 1, Operation: "WRITE", FilesAdded: 1},
		{Version: 2, Operation: "REPLACE", FilesAdded: 1, FilesRemoved: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d commits, want %d: %+v", len(got), len(want), got)
	}
	start := time.Now().Add(-fixtureStart)
	for i, w := range want {
		g := got[i]
		w.Timestamp = g.Timestamp // checked below: the clock's, in order
		if g != w {
			t.Errorf("commit %d: got %+v, want %+v", i, g, w)
		}
		if g.Timestamp.Before(start) || g.Timestamp.After(e.clock) {
			t.Errorf("v%d timestamp %s: not on the fixture's clock [%s, %s]", g.Version, g.Timestamp, start, e.clock)
		}
		if i > 0 && !g.Timestamp.After(got[i-1].Timestamp) {
			t.Errorf("v%d timestamp %s is not after v%d's %s", g.Version, g.Timestamp, i-1, got[i-1].Timestamp)
		}
	}

	text := mustLakectl(t, "table", "history", e.dir)
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if len(lines) != 1+len(want) {
		t.Fatalf("text history: got %d lines, want a header and %d commits:\n%s", len(lines), len(want), text)
	}
	for i, w := range want {
		fields := strings.Fields(lines[1+i])
		wantFields := append([]string{fmt.Sprint(w.Version), got[i].Timestamp.Format(time.RFC3339)},
			strings.Fields(w.Operation)...)
		wantFields = append(wantFields, fmt.Sprint(w.FilesAdded), fmt.Sprint(w.FilesRemoved))
		if strings.Join(fields, " ") != strings.Join(wantFields, " ") {
			t.Errorf("text line %d: got %q, want fields %q", i+1, lines[1+i], wantFields)
		}
	}
}

func TestTableHistoryOfMissingTable(t *testing.T) {
	res := runLakectl(t, "table", "history", t.TempDir())
	if res.exitCode == 0 {
		t.Fatalf("exit 0 for a directory without a table; stdout: %s", res.stdout)
	}
	if !strings.Contains(res.stderr, "no Delta table") {
		t.Errorf("stderr does not say there is no table: %s", res.stderr)
	}
}
