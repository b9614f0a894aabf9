package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lakectl/lakectl/internal/bronzefixture"
)

// TestTableCheckRepairReprocess is the way back from a lost Silver file: Silver built
// from three ingest hours (late events land in the first hour's partition from all
// three), one live file of that partition deleted; table check names it, the repair
// removes it in one FSCK commit and prints the run silver --reprocess command, and
// that command writes exactly the lost rows again.
func TestTableCheckRepairReprocess(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	mustLakectl(t, "init", dir)
	mustLakectl(t, "ref", "load", "users", "-p", dir)
	writeCheckBronze(t, filepath.Join(dir, "lake"))
	mustLakectl(t, "run", "silver", "--from", "2026-11-20T08", "--to", "2026-11-20T10", "-p", dir)
	table := filepath.Join(dir, "lake", "silver", "events")
	rowsSQL := `SELECT event_id, user_id, event_type, amount, "timestamp", event_date, event_hour FROM silver.events ORDER BY ALL`
	countSQL := `SELECT count(*) AS n, count(DISTINCT event_id) AS ids FROM silver.events`
	before := mustLakectl(t, "query", "-p", dir, "--format", "csv", rowsSQL)
	if got := mustLakectl(t, "query", "-p", dir, "--format", "csv", countSQL); got != "n,ids\n60,60\n" {
		t.Fatalf("silver before the loss: %q, want 60 rows of 60 ids", got)
	}

	if out := mustLakectl(t, "table", "check", table); !strings.Contains(out, "0 problems") {
		t.Errorf("check of the intact table:\n%s\nwant 0 problems", out)
	}
	var show showView
	if err := json.Unmarshal([]byte(mustLakectl(t, "table", "show", table, "--json")), &show); err != nil {
		t.Fatal(err)
	}
	lost := ""
	for _, f := range show.Files {
		if strings.HasPrefix(f.Path, "event_date=2026-11-20/event_hour=8/") {
			lost = f.Path
			break
		}
	}
	if lost == "" {
		t.Fatalf("no file in partition 2026-11-20/08: %+v", show.Files)
	}
	if err := os.Remove(filepath.Join(table, filepath.FromSlash(lost))); err != nil {
		t.Fatal(err)
	}

	res := runLakectl(t, "table", "check", table)
	if res.exitCode != 1 || !regexp.MustCompile(`(?m)^missing +`+regexp.QuoteMeta(lost)).MatchString(res.stdout) ||
		!strings.Contains(res.stderr, "--repair") {
		t.Errorf("check after the loss: %+v, want exit 1, a missing line naming %s and a hint to --repair", res, lost)
	}
	res = runLakectl(t, "table", "check", table, "--repair")
	if res.exitCode != 1 || !strings.Contains(res.stderr, "not a terminal") || !strings.Contains(res.stderr, lost) {
		t.Errorf("repair without a terminal or --yes: %+v, want the list and a refusal", res)
	}
	versionBefore := tableVersion(t, table)
	if versionBefore != show.Version {
		t.Fatalf("the refused repair committed: v%d, want v%d", versionBefore, show.Version)
	}

	out := mustLakectl(t, "table", "check", table, "--repair", "--yes")
	wantCmd := "lakectl run silver events --from 2026-11-20T08 --to 2026-11-20T10 --reprocess"
	if !strings.Contains(out, fmt.Sprintf("removed 1 file in v%d (FSCK)", versionBefore+1)) ||
		!strings.Contains(out, "partitions 2026-11-20/08") || !strings.Contains(out, wantCmd) {
		t.Errorf("repair:\n%s\nwant one FSCK commit, partition 2026-11-20/08 and %q", out, wantCmd)
	}
	var hist []historyRow
	if err := json.Unmarshal([]byte(mustLakectl(t, "table", "history", table, "--json")), &hist); err != nil {
		t.Fatal(err)
	}
	if last := hist[len(hist)-1]; last.Version != versionBefore+1 || last.Operation != "FSCK" || last.FilesRemoved != 1 || last.FilesAdded != 0 {
		t.Errorf("last commit %+v, want v%d FSCK removing 1 file", last, versionBefore+1)
	}
	if got := mustLakectl(t, "query", "-p", dir, "--format", "csv", countSQL); got == "n,ids\n60,60\n" {
		t.Fatalf("silver after the repair still has every row: the test lost nothing")
	}

	res = runLakectl(t, "run", "silver", "--hour", "2026-11-20T08", "-p", dir)
	if res.exitCode != 0 || !strings.Contains(res.stdout, "already processed") || !strings.Contains(res.stdout, "--reprocess") {
		t.Errorf("run of a processed hour: %+v, want already processed, naming --reprocess", res)
	}
	for range 2 { // the second reprocess finds nothing to write
		mustLakectl(t, append(strings.Fields(wantCmd)[1:], "-p", dir)...)
		if got := mustLakectl(t, "query", "-p", dir, "--format", "csv", rowsSQL); got != before {
			t.Errorf("silver after --reprocess:\n%s\nwant the rows before the loss:\n%s", got, before)
		}
		if got := mustLakectl(t, "query", "-p", dir, "--format", "csv", countSQL); got != "n,ids\n60,60\n" {
			t.Errorf("silver after --reprocess: %q, want 60 rows of 60 ids", got)
		}
	}
	if out := mustLakectl(t, "table", "check", table); !strings.Contains(out, "0 problems") {
		t.Errorf("check after the restore:\n%s\nwant 0 problems", out)
	}
}

func tableVersion(t *testing.T, table string) int64 {
	t.Helper()
	var show showView
	if err := json.Unmarshal([]byte(mustLakectl(t, "table", "show", table, "--json")), &show); err != nil {
		t.Fatal(err)
	}
	return show.Version
}

// writeCheckBronze commits to bronze/events of the lake in dir 20 events in each of the
// ingest hours 2026-11-20T08, 09 and 10, sealed. Every fifth event of each hour
// happened in hour 08 (late, in the later hours), and hour 10 resends two events of
// the hours before: 60 distinct events.
func writeCheckBronze(t *testing.T, dir string) {
	t.Helper()
	first := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	payload := func(hour, n int) []byte {
		at := first.Add(time.Duration(hour)*time.Hour + time.Duration(n)*time.Minute)
		if n%5 == 0 {
			at = first.Add(time.Duration(n) * time.Minute)
		}
		b, _ := json.Marshal(map[string]any{"event_id": fmt.Sprintf("h%d-%02d", hour, n), "user_id": fmt.Sprintf("u%d", n),
			"event_type": "click", "amount": float64(n) + 0.5, "timestamp": at.Format(time.RFC3339)})
		return b
	}
	var records []bronzefixture.Record
	offsets := [3]int64{}
	add := func(p []byte, ingested time.Time) {
		part := len(records) % 3
		offsets[part]++
		records = append(records, bronzefixture.Record{Payload: p, Partition: int32(part), Offset: offsets[part], Ingested: ingested})
	}
	for hour := range 3 {
		for n := range 20 {
			add(payload(hour, n), first.Add(time.Duration(hour)*time.Hour+time.Duration(n)*time.Minute+30*time.Second))
		}
	}
	add(payload(0, 1), first.Add(2*time.Hour+50*time.Minute))
	add(payload(1, 3), first.Add(2*time.Hour+51*time.Minute))
	commitBronze(t, dir, "events", records, first.Add(3*time.Hour+10*time.Minute))
}

// TestTableCheckCorrupt: a missing file and a truncated one are both reported; a
// repair removes only the missing one unless --remove-corrupt, and exits 1 while a
// corrupt file stays in the table.
func TestTableCheckCorrupt(t *testing.T) {
	e := newEvents(t)
	if err := os.Remove(filepath.Join(e.dir, filepath.FromSlash(e.b1.DecodedPath()))); err != nil {
		t.Fatal(err)
	}
	a2 := filepath.Join(e.dir, filepath.FromSlash(e.a2.DecodedPath()))
	if err := os.Truncate(a2, e.a2.Size-8); err != nil {
		t.Fatal(err)
	}

	res := runLakectl(t, "table", "check", e.dir, "--json")
	var view checkView
	if err := json.Unmarshal([]byte(res.stdout), &view); err != nil {
		t.Fatalf("check --json: %v\n%+v", err, res)
	}
	got := map[string]string{}
	for _, p := range view.Problems {
		got[p.Path] = string(p.Kind)
	}
	want := map[string]string{e.b1.DecodedPath(): "missing", e.a2.DecodedPath(): "unreadable"}
	if res.exitCode != 1 || view.Files != 2 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("check --json: exit %d, %+v; want exit 1 and problems %v", res.exitCode, view, want)
	}

	if res := runLakectl(t, "table", "check", e.dir, "--yes"); res.exitCode != 1 || !strings.Contains(res.stderr, "go with --repair") {
		t.Errorf("--yes without --repair: %+v, want a usage error", res)
	}

	res = runLakectl(t, "table", "check", e.dir, "--repair", "--yes")
	if res.exitCode != 1 || !strings.Contains(res.stdout, "removed 1 file in v3 (FSCK)") || !strings.Contains(res.stderr, "--remove-corrupt") {
		t.Errorf("repair: %+v, want b1 removed in v3 and exit 1 naming --remove-corrupt for a2", res)
	}
	res = runLakectl(t, "table", "check", e.dir, "--repair", "--yes", "--remove-corrupt")
	if res.exitCode != 0 || !strings.Contains(res.stdout, "removed 1 file in v4 (FSCK)") || strings.Contains(res.stdout, "silver") {
		t.Errorf("repair --remove-corrupt: %+v, want a2 removed in v4, exit 0 and no Silver restore for a table that is not Silver", res)
	}
	if _, err := os.Stat(a2); err != nil {
		t.Errorf("repair deleted the corrupt file's object: %v", err)
	}
	if out := mustLakectl(t, "table", "check", e.dir); !strings.Contains(out, "0 live files checked, 0 problems") {
		t.Errorf("check after the repairs:\n%s", out)
	}
}

func TestAskYes(t *testing.T) {
	for in, want := range map[string]bool{"y\n": true, "YES\n": true, " yes \n": true, "n\n": false, "\n": false, "": false, "yess\n": false} {
		var prompt strings.Builder
		got := askYes(strings.NewReader(in), &prompt, "remove 1 file from x?")
		if got != want || prompt.String() != "remove 1 file from x? [y/N] " {
			t.Errorf("askYes(%q) = %v, prompt %q; want %v", in, got, prompt.String(), want)
		}
	}
}
