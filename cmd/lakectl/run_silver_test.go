package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lakectl/lakectl/bronze/layout"
)

// TestPipelineCommands drives init, ref load and query through the binary, and checks
// that each kind of user mistake gets one error line and a hint.
func TestPipelineCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	if res := runLakectl(t, "init", dir); res.exitCode != 0 || !strings.Contains(res.stdout, "lakectl.yaml") {
		t.Fatalf("init: %+v", res)
	}
	if res := runLakectl(t, "init", dir); res.exitCode == 0 || !strings.Contains(res.stderr, "already holds lakectl.yaml") {
		t.Errorf("second init into the same directory: %+v, want a refusal", res)
	}
	if res := runLakectl(t, "ref", "load", "users", "-p", dir); res.exitCode != 0 || !strings.Contains(res.stdout, "ref.users: 10000 rows") {
		t.Fatalf("ref load: %+v", res)
	}
	res := runLakectl(t, "query", "-p", dir, "--format", "csv", "SELECT count(*) AS n, count(DISTINCT country) > 1 AS several FROM ref.users")
	if res.exitCode != 0 || res.stdout != "n,several\n10000,true\n" {
		t.Errorf("query ref.users: %+v", res)
	}

	bad := filepath.Join(t.TempDir(), "bad")
	if err := os.MkdirAll(bad, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bad, "lakectl.yaml"), []byte("streams:\n  events: {grase: 5m}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if res := runLakectl(t, "run", "silver", "--hour", "2026-11-21T10:00:00+02:00", "-p", dir); !strings.Contains(res.stderr, "2026-11-21T08") {
		t.Errorf("--hour with a zone offset on the hour: %+v, want it read as ingest hour 2026-11-21T08 (UTC)", res)
	}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"bad pipeline file", []string{"run", "silver", "--hour", "2026-11-21T08", "-p", bad}, `lakectl.yaml:2: streams.events.grase: unknown key "grase"`},
		{"malformed hour", []string{"run", "silver", "--hour", "yesterday", "-p", dir}, `bad --hour "yesterday": not an hour`},
		{"hour with minutes", []string{"run", "silver", "--hour", "2026-11-21T08:30:00Z", "-p", dir}, `bad --hour "2026-11-21T08:30:00Z": an hour has no minutes`},
		{"backfill end with seconds", []string{"run", "silver", "--from", "2026-11-21T08", "--to", "2026-11-21T09:00:01Z", "-p", dir}, `bad --to "2026-11-21T09:00:01Z": an hour has no minutes`},
		{"bad ref name", []string{"ref", "load", "Users-EU", filepath.Join(dir, "reference", "users.csv"), "-p", dir}, `bad reference table name "Users-EU"`},
		{"ref name with a path", []string{"ref", "load", "../users", filepath.Join(dir, "reference", "users.csv"), "-p", dir}, `bad reference table name "../users"`},
		{"no way to pick hours", []string{"run", "silver", "-p", dir}, "choose the hours to process in one way"},
		{"unknown table", []string{"run", "silver", "clicks", "--hour", "2026-11-21T08", "-p", dir}, `no silver table "clicks"`},
		{"nothing ingested", []string{"run", "silver", "--hour", "2026-11-21T08", "-p", dir}, "has anything been ingested into stream events?"},
		{"unknown ref", []string{"ref", "load", "plans", "-p", dir}, `no reference table "plans"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := runLakectl(t, tt.args...)
			lines := strings.Split(strings.TrimSpace(res.stderr), "\n")
			if res.exitCode != 1 || !strings.HasPrefix(lines[0], "lakectl: ") || !strings.Contains(lines[0], tt.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and a first line with %q", res.exitCode, res.stderr, tt.want)
			}
			if len(lines) > 2 || (len(lines) == 2 && !strings.HasPrefix(lines[1], "hint: ")) {
				t.Errorf("stderr has more than the error and a hint:\n%s", res.stderr)
			}
		})
	}
}

// TestRunSilverHoursWithoutData: through the binary, a backfill from 1970 says how
// many of its hours hold data and commits only those; an hour before the first
// data is one line and no commit; an hour in the future is refused, forced or not.
func TestRunSilverHoursWithoutData(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "lakectl.yaml"), []byte(gracePipeline), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := layout.ParseHour("2026-11-21T08")
	if err != nil {
		t.Fatal(err)
	}
	writeBronzeHour(t, filepath.Join(dir, "lake"), "fast", h, h.End().Add(10*time.Minute))
	env := []string{"LAKECTL_PIPELINE=" + dir}
	silverLog := filepath.Join(dir, "lake", "silver", "fast", "_delta_log")
	commits := func() int {
		entries, err := os.ReadDir(silverLog)
		if errors.Is(err, fs.ErrNotExist) {
			return 0
		}
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".json") {
				n++
			}
		}
		return n
	}

	res := runLakectlEnv(t, env, "run", "silver", "fast", "--hour", "1970-01-01T00")
	if res.exitCode != 0 || strings.Count(res.stdout, "\n") != 1 || !strings.Contains(res.stdout, "before the stream's first data (2026-11-21T08)") {
		t.Errorf("an hour before the first data: exit %d, stdout %q, want one line naming the first data hour", res.exitCode, res.stdout)
	}
	if n := commits(); n != 0 {
		t.Errorf("%d Silver commits after an hour before the first data, want none", n)
	}
	for _, args := range [][]string{{"--hour", "2999-01-01T00", "--force"}, {"--hour", "2999-01-01T00"}, {"--from", "2026-11-21T00", "--to", "2999-01-01T00"}} {
		res := runLakectlEnv(t, env, append([]string{"run", "silver", "fast"}, args...)...)
		if res.exitCode != 1 || !strings.Contains(res.stderr, "ingest hour 2999-01-01T00 is in the future") {
			t.Errorf("run silver %v: exit %d, stderr %q, want a refusal of the future hour", args, res.exitCode, res.stderr)
		}
	}
	now := layout.HourOf(time.Now())
	res = runLakectlEnv(t, env, "run", "silver", "fast", "--from", "1970-01-01T00", "--to", now.String())
	total := int(now.Time().Sub(time.Unix(0, 0))/time.Hour) + 1
	if want := fmt.Sprintf("fast: 1 of %d hours hold data in bronze/fast (%d before its first data, 2026-11-21T08, skipped)", total, total-int(now.Time().Sub(h.Time())/time.Hour)-1); res.exitCode != 0 || !strings.Contains(res.stderr, want) {
		t.Errorf("backfill from 1970: exit %d, stderr %q, want the line %q", res.exitCode, res.stderr, want)
	}
	if !strings.HasPrefix(res.stdout, "fast 2026-11-21T08: in 1,") || strings.Count(res.stdout, "\n") != 1 {
		t.Errorf("backfill from 1970: stdout %q, want one summary, of hour 2026-11-21T08", res.stdout)
	}
	if n := commits(); n != 1 {
		t.Errorf("%d Silver commits after the backfill, want 1", n)
	}
}
