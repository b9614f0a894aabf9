package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestVersion: `lakectl version` and `lakectl --version` name lakectl's, Go's and the
// linked DuckDB's versions; --json gives the same facts to scripts.
func TestVersion(t *testing.T) {
	text := mustLakectl(t, "version")
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^lakectl +\S+`),
		regexp.MustCompile(`(?m)^go +go1\.`),
		regexp.MustCompile(`(?m)^duckdb +v\d+\.\d+\.\d+ \(duckdb-go v2\.`),
	} {
		if !want.MatchString(text) {
			t.Errorf("lakectl version:\n%s\nhas no line matching %s", text, want)
		}
	}
	if got := mustLakectl(t, "--version"); got != text {
		t.Errorf("lakectl --version:\n%s\nwant the same as lakectl version:\n%s", got, text)
	}
	var v versionInfo
	if err := json.Unmarshal([]byte(mustLakectl(t, "version", "--json")), &v); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, v.DuckDB) || !strings.HasPrefix(v.DuckDB, "v") || !strings.HasPrefix(v.Go, "go1.") || v.Version == "" {
		t.Errorf("version --json: %+v, want the versions of the text form:\n%s", v, text)
	}
}

// TestHelpNamesVariables: every flag that a LAKECTL_* variable sets says so in its
// help, and no flag's help shows a command-line fragment as its value name.
func TestHelpNamesVariables(t *testing.T) {
	for _, tt := range []struct {
		cmd  []string
		want []string
	}{
		{[]string{"ingest"}, []string{"$LAKECTL_LAKE", "$LAKECTL_BROKERS", "$LAKECTL_GROUP", "$LAKECTL_TOPICS", "$LAKECTL_HTTP", "$LAKECTL_TOKEN", "$LAKECTL_GRACE", "$LAKECTL_FLUSH_INTERVAL", "$LAKECTL_SHUTDOWN_TIMEOUT", "$LAKECTL_INSTANCE_ID",
			"$LAKECTL_HTTP_HEADER_TIMEOUT", "$LAKECTL_HTTP_BODY_TIMEOUT", "$LAKECTL_HTTP_STALL_TIMEOUT", "$LAKECTL_HTTP_IDLE_TIMEOUT"}},
		{[]string{"status"}, []string{"$LAKECTL_LAKE", "$LAKECTL_GRACE", "$LAKECTL_BROKERS", "$LAKECTL_PIPELINE"}},
		{[]string{"compact", "bronze"}, []string{"$LAKECTL_LAKE", "$LAKECTL_GRACE", "$LAKECTL_COMPACT_SIZE", "$LAKECTL_PIPELINE"}},
		{[]string{"verify", "bronze"}, []string{"$LAKECTL_LAKE", "$LAKECTL_BROKERS", "$LAKECTL_PIPELINE"}},
		{[]string{"gen"}, []string{"$LAKECTL_BROKERS", "$LAKECTL_TOKEN"}},
		{[]string{"run", "silver"}, []string{"$LAKECTL_LAKE", "$LAKECTL_DUCKDB_MEMORY_LIMIT", "$LAKECTL_DUCKDB_THREADS", "$LAKECTL_PIPELINE"}},
		{[]string{"query"}, []string{"$LAKECTL_LAKE", "$LAKECTL_PIPELINE"}},
	} {
		help := mustLakectl(t, append(tt.cmd, "--help")...)
		for _, v := range tt.want {
			if !strings.Contains(help, v) {
				t.Errorf("lakectl %s --help does not name %s", strings.Join(tt.cmd, " "), v)
			}
		}
		if strings.Contains(help, "--compact lakectl") {
			t.Errorf("lakectl %s --help shows a backquoted phrase as a flag's value name", strings.Join(tt.cmd, " "))
		}
	}
}

// TestLakeFromEnvironmentOrPipeline: compact bronze and verify bronze find the lake
// the way status does, from $LAKECTL_LAKE or a pipeline, not only from --lake; and a
// variable that does not parse is an error naming it, not a silent default.
func TestLakeFromEnvironmentOrPipeline(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	mustLakectl(t, "init", dir)
	empty := filepath.Join(t.TempDir(), "empty")

	res := runLakectlEnv(t, []string{"LAKECTL_PIPELINE=" + dir}, "compact", "bronze", "--sealed", "--json")
	if res.exitCode != 0 || strings.TrimSpace(res.stdout) != "[]" {
		t.Errorf("compact bronze in a pipeline with no Bronze yet: %+v, want exit 0 and []", res)
	}
	res = runLakectlEnv(t, []string{"LAKECTL_LAKE=" + empty}, "compact", "bronze", "--sealed")
	if res.exitCode != 0 {
		t.Errorf("compact bronze with $LAKECTL_LAKE: %+v, want exit 0", res)
	}
	res = runLakectlEnv(t, []string{"LAKECTL_PIPELINE=" + dir}, "verify", "bronze", "--stream", "events")
	if res.exitCode != 1 || !strings.Contains(res.stderr, "no Delta table") || !strings.Contains(res.stderr, "hint: lakectl status lists the streams") {
		t.Errorf("verify bronze of a stream with no table: %+v, want the error and a hint", res)
	}
	res = runLakectlEnv(t, []string{"LAKECTL_LAKE=" + empty, "LAKECTL_GRACE=5"}, "status")
	if res.exitCode != 1 || !strings.Contains(res.stderr, `$LAKECTL_GRACE="5"`) {
		t.Errorf("status with LAKECTL_GRACE=5: %+v, want an error naming the variable", res)
	}
}

// TestErrorMessages: each mistake gets exit 1, one error line that names its subject
// once (no "open x: open store x"), and a hint where there is something to do.
func TestErrorMessages(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	mustLakectl(t, "init", dir)
	mustLakectl(t, "ref", "load", "users", "-p", dir)
	for _, tt := range []struct {
		name      string
		args      []string
		want      string
		wantHint  string
		doubledIn string // a subject that must appear only once
	}{
		{"unknown flag", []string{"run", "silver", "--bogus"}, "unknown flag: --bogus", "lakectl run silver --help", ""},
		{"no lake", []string{"compact", "bronze", "--sealed"}, "no lake given", "--lake", ""},
		{"bad scheme", []string{"status", "--lake", "ftp://x/lake"}, "unknown scheme", "", "ftp://x/lake"},
		{"bad scheme, table", []string{"table", "show", "ftp://x/t"}, "unknown scheme", "", "ftp://x/t"},
		{"gen without target", []string{"gen"}, "no target given", "--url", ""},
		{"gen brokers without topic", []string{"gen", "--brokers", "127.0.0.1:1"}, "--brokers needs --topic", "--topic", ""},
		{"verify without stream", []string{"verify", "bronze", "--lake", dir}, "give --stream", "lakectl status", ""},
		{"compact hour with minutes", []string{"compact", "bronze", "--lake", dir, "--hour", "2026-11-21T08:30:00Z"}, "an hour has no minutes", "2026-11-21T08", ""},
		{"table version and as-of", []string{"table", "show", dir, "--version", "1", "--as-of", "2026-11-21"}, "give one of them", "--as-of", ""},
		{"query unknown table", []string{"query", "-p", dir, "SELECT * FROM silver.nope"}, "Catalog Error", "the tables are ref.users (v0)", ""},
		{"query future as-of", []string{"query", "-p", dir, "--as-of", "2999-01-01", "SELECT 1"}, "in the future", "at or before now", "2999-01-01T00:00:00Z"},
		{"table version not found", []string{"table", "show", filepath.Join(dir, "lake", "ref", "users"), "--version", "7"}, "version not found", "lakectl table history", ""},
		{"dev kafka bad topic", []string{"dev", "kafka", "--topic", "events:0"}, "want NAME:PARTITIONS", "events:4", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := runLakectl(t, tt.args...)
			lines := strings.Split(strings.TrimSpace(res.stderr), "\n")
			if res.exitCode != 1 || !strings.HasPrefix(lines[0], "lakectl: ") || !strings.Contains(res.stderr, tt.want) {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit 1 and %q", res.exitCode, res.stderr, tt.want)
			}
			if tt.wantHint != "" && !strings.Contains(res.stderr, "\nhint: ") {
				t.Errorf("stderr:\n%s\nhas no hint", res.stderr)
			}
			if tt.wantHint != "" && !strings.Contains(res.stderr[strings.Index(res.stderr, "\nhint: "):], tt.wantHint) {
				t.Errorf("hint in:\n%s\ndoes not mention %q", res.stderr, tt.wantHint)
			}
			if tt.doubledIn != "" && strings.Count(lines[0], tt.doubledIn) != 1 {
				t.Errorf("error %q names %s more than once", lines[0], tt.doubledIn)
			}
		})
	}
}

// TestQueryFromStdin: without an argument and with stdin not a terminal, query runs
// the SQL on stdin, so scripts can keep SQL in files; an empty stdin (a scheduler's
// /dev/null) is an error, not an interactive prompt that exits 0.
func TestQueryFromStdin(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	mustLakectl(t, "init", dir)
	run := func(stdin *os.File, args ...string) cliResult {
		cmd := exec.CommandContext(t.Context(), lakectlBin, args...)
		cmd.Stdin = stdin
		out, err := cmd.Output()
		res := cliResult{stdout: string(out)}
		if exit, ok := err.(*exec.ExitError); ok {
			res.exitCode, res.stderr = exit.ExitCode(), string(exit.Stderr)
		} else if err != nil {
			t.Fatal(err)
		}
		return res
	}
	sql := filepath.Join(t.TempDir(), "q.sql")
	if err := os.WriteFile(sql, []byte("SELECT 41 + 1 AS answer;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(sql)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if res := run(f, "query", "-p", dir, "--format", "csv"); res.exitCode != 0 || res.stdout != "answer\n42\n" {
		t.Errorf("query < q.sql: %+v, want answer 42", res)
	}
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	if res := run(null, "query", "-p", dir); res.exitCode != 1 || !strings.Contains(res.stderr, "no SQL given") {
		t.Errorf("query < /dev/null: %+v, want exit 1 and no SQL given", res)
	}
}
