package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/internal/bronzefixture"
	"github.com/lakectl/lakectl/lake/fs"
	"github.com/lakectl/lakectl/silver"
)

const enrichPipeline = `store: lake
streams:
  events: {}
reference:
  users: {file: users.csv}
silver:
  events:
    source: events
    fields:
      event_id: {type: string, required: true}
      user_id:  {type: string, required: true}
      ts:       {type: timestamp, required: true}
    key: [event_id]
    event_time: ts
    enrich:
      - {ref: users, on: user_id, columns: [plan], as_of: event_time}
`

// writeBronzeEvents commits payloads to bronze/<stream> of the lake in dir as ingest
// hour h, and moves the stream's mark to mark.
func writeBronzeEvents(t *testing.T, dir, stream string, h layout.Hour, mark time.Time, payloads ...string) {
	t.Helper()
	records := make([]bronzefixture.Record, len(payloads))
	for i, p := range payloads {
		records[i] = bronzefixture.Record{Payload: []byte(p), Offset: int64(i), Ingested: h.Time().Add(time.Minute)}
	}
	commitBronze(t, dir, stream, records, mark)
}

// commitBronze commits records to bronze/<stream> of the file lake at dir and moves
// the marks of their partitions to mark.
func commitBronze(t *testing.T, dir, stream string, records []bronzefixture.Record, mark time.Time) {
	t.Helper()
	store, err := fs.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := engine.Open(t.Context(), engine.Config{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	bronzefixture.CommitRecords(t, sess, store, stream, records, mark)
}

// TestLateDimensionCommands drives ref load --valid-from, run silver --reenrich and
// status through the binary: a user missing from the reference waits, shows in
// status, survives a re-enrichment killed before its commit, and is filled by the
// next one.
func TestLateDimensionCommands(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("lakectl.yaml", enrichPipeline)
	write("users.csv", "user_id,plan\nu1,free\n")
	env := []string{"LAKECTL_PIPELINE=" + dir}
	if out := mustLakectlEnv(t, env, "ref", "load", "users"); !strings.Contains(out, "ref.users: 1 rows from") || !strings.Contains(out, "1 rows opened, 0 closed, v0") {
		t.Errorf("first ref load: %q", out)
	}
	h, err := layout.ParseHour("2026-11-21T08")
	if err != nil {
		t.Fatal(err)
	}
	writeBronzeEvents(t, filepath.Join(dir, "lake"), "events", h, h.End().Add(10*time.Minute),
		`{"event_id":"e1","user_id":"u1","ts":"2026-11-21T08:01:00Z"}`,
		`{"event_id":"e2","user_id":"u9","ts":"2026-11-21T08:02:00Z"}`)
	mustLakectlEnv(t, env, "run", "silver", "--hour", h.String())
	waiting := func(n string) *regexp.Regexp { return regexp.MustCompile(`(?m)^events\s+users\s+` + n + `\s*$`) }
	if out := mustLakectlEnv(t, env, "status"); !waiting("1").MatchString(out) {
		t.Errorf("status does not show 1 row of events waiting for users:\n%s", out)
	}
	if out := mustLakectlEnv(t, env, "run", "silver", "--reenrich"); !strings.Contains(out, "events: 1 rows wait for a reference, none found yet; nothing committed") {
		t.Errorf("re-enrichment before the load: %q", out)
	}

	write("users2.csv", "user_id,plan\nu1,pro\nu9,free\n")
	if out := mustLakectlEnv(t, env, "ref", "load", "users", filepath.Join(dir, "users2.csv"), "--valid-from", "2026-11-21T12:00:00Z"); !strings.Contains(out, "valid from 2026-11-21T12:00:00Z: 2 rows opened, 1 closed, v1") {
		t.Errorf("second ref load: %q", out)
	}
	plans := func() string {
		return mustLakectlEnv(t, env, "query", "--format", "csv", "SELECT string_agg(event_id || '=' || coalesce(plan, '-'), ' ' ORDER BY event_id) AS plans FROM silver.events")
	}
	before := plans()
	if before != "plans\ne1=free e2=-\n" {
		t.Errorf("silver before the re-enrichment: %q", before)
	}
	res := runLakectlEnv(t, append(env, "LAKECTL_TEST_KILL_AT="+silver.HookFilesWritten), "run", "silver", "--reenrich")
	if res.exitCode == 0 {
		t.Fatalf("re-enrichment with a kill point: exit 0, want killed; stdout %q", res.stdout)
	}
	if got := plans(); got != before {
		t.Errorf("silver after a re-enrichment killed before its commit: %q, want %q", got, before)
	}
	if out := mustLakectlEnv(t, env, "run", "silver", "--reenrich"); !strings.Contains(out, "events: filled 1 of 1 waiting rows, partitions 1 (2026-11-21/08)") {
		t.Errorf("re-enrichment: %q", out)
	}
	// u1 keeps the plan of its event's time; u9, new in the second load, is valid
	// since ever.
	if got := plans(); got != "plans\ne1=free e2=free\n" {
		t.Errorf("silver after the re-enrichment: %q", got)
	}
	if out := mustLakectlEnv(t, env, "status"); !waiting("0").MatchString(out) {
		t.Errorf("status after the re-enrichment does not show 0 rows waiting:\n%s", out)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "silver", "--reenrich", "--hour", h.String()}, "--reenrich works on rows already in Silver"},
		{[]string{"ref", "load", "users", "--valid-from", "noon"}, `bad --valid-from "noon"`},
		{[]string{"ref", "load", "users", "--valid-from", "2026-11-21T11:00:00Z"}, "a new version must start after it"},
	} {
		if res := runLakectlEnv(t, env, tt.args...); res.exitCode != 1 || !strings.Contains(res.stderr, tt.want) {
			t.Errorf("lakectl %v: exit %d, stderr %q, want %q", tt.args, res.exitCode, res.stderr, tt.want)
		}
	}
}
