package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
