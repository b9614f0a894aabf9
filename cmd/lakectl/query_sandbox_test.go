package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lakectl/lakectl/internal/e2e"
)

// TestQuerySandboxEndToEnd is issue 7's "done when" for the query sandbox: a small
// lake made by the commands a user runs (init, ref load, HTTP ingest, gen, run
// silver), then the audit's escapes, and the others DuckDB offers, through `lakectl
// query` run in the pipeline directory. Each fails with an error that says why, and
// every file of the pipeline and its lake is byte for byte what it was.
func TestQuerySandboxEndToEnd(t *testing.T) {
	lakectl := e2e.Binary(lakectlBin)
	dir := filepath.Join(t.TempDir(), "pipeline")
	lakectl.Run(t, nil, "init", dir)
	env := []string{"LAKECTL_PIPELINE=" + dir, "XDG_CACHE_HOME=" + t.TempDir()}
	lakectl.Run(t, env, "ref", "load", "users")
	// Events in an hour two hours ago, then a clean stop with the real clock, which
	// seals that hour for run silver --pending.
	addr := e2e.FreeAddr(t)
	ing := lakectl.Start(t, "ingest", env, "ingest", "--brokers=", "--http", addr,
		"--clock-offset", "-2h", "--flush-interval", "300ms", "--log-level", "warn")
	e2e.WaitHTTP(t, "http://"+addr+"/healthz", ing)
	sum := e2e.GenSummary(t, lakectl.Start(t, "gen", env, "gen", "--url", "http://"+addr+"/v1/streams/events/events",
		"--count", "2000", "--seed", "7", "--malformed", "0.01"))
	ing.Term(t)
	ing = lakectl.Start(t, "ingest", env, "ingest", "--brokers=", "--http", addr, "--log-level", "warn")
	e2e.WaitHTTP(t, "http://"+addr+"/healthz", ing)
	ing.Term(t)
	lakectl.Run(t, env, "run", "silver", "--pending")

	// The commit that would come next: the audit's COPY wrote one and broke the table.
	silverLog := filepath.Join("lake", "silver", "events", "_delta_log")
	commits, err := filepath.Glob(filepath.Join(dir, silverLog, "[0-9]*.json"))
	if err != nil || len(commits) == 0 {
		t.Fatalf("no commits of silver.events (%v)", err)
	}
	nextCommit := filepath.Join(silverLog, fmt.Sprintf("%020d.json", len(commits)))
	var silverFile, bronzeLog string
	before := treeFiles(t, dir)
	for p := range before {
		switch {
		case strings.HasPrefix(p, "lake/silver/events/") && strings.HasSuffix(p, ".parquet"):
			silverFile = p
		case strings.HasPrefix(p, "lake/bronze/events/_delta_log/") && strings.HasSuffix(p, ".json"):
			bronzeLog = p
		}
	}
	if silverFile == "" || bronzeLog == "" {
		t.Fatalf("no Silver data file or Bronze commit in the lake: %q", slices.Sorted(maps.Keys(before)))
	}
	outside := t.TempDir()

	const (
		refused  = "only queries run here"
		noAccess = "file system operations are disabled by configuration"
	)
	for _, tt := range []struct{ sql, want string }{
		// The audit's.
		{"COPY (SELECT 'x') TO '" + nextCommit + "'", refused},
		{"SELECT * FROM read_csv('/etc/passwd')", noAccess},
		{"SELECT * FROM read_text('/etc/passwd')", noAccess},
		{"SELECT * FROM glob('/etc/*')", noAccess},
		{"ATTACH '" + filepath.Join(outside, "x.duckdb") + "'", refused},
		// Writes of other kinds.
		{"COPY (SELECT 42 AS n) TO '" + silverFile + "' (FORMAT parquet, USE_TMP_FILE false)", refused},
		{"COPY silver.events TO '" + filepath.Join(outside, "events.csv") + "'", refused},
		{"EXPORT DATABASE '" + filepath.Join(outside, "export") + "'", refused},
		{"CREATE TABLE copy AS SELECT * FROM silver.events", refused},
		{"INSERT INTO silver.events SELECT * FROM silver.events", refused},
		{"SELECT count(*) FROM silver.events; COPY (SELECT 1) TO '" + nextCommit + "'", refused},
		// Reads of files the query did not register.
		{"SELECT * FROM read_blob('/etc/passwd')", noAccess},
		{"SELECT * FROM read_json('" + bronzeLog + "')", noAccess},
		{"SELECT * FROM read_text('" + filepath.Join(dir, bronzeLog) + "')", noAccess},
		{"SELECT * FROM read_parquet('" + filepath.Join(dir, silverFile) + "')", noAccess},
		{"SELECT * FROM glob('" + filepath.Join(dir, "lake", "**") + "')", noAccess},
		{"SELECT * FROM read_csv('" + filepath.Join(dir, "reference", "users.csv") + "')", noAccess},
		// Extensions, settings, and functions that change the session.
		{"INSTALL httpfs", refused},
		{"LOAD httpfs", refused},
		{"SET enable_external_access = true", refused},
		{"RESET lock_configuration", refused},
		{"PRAGMA enable_profiling", refused},
		{"SELECT * FROM enable_logging(storage = 'file', storage_path = '" + silverLog + "')", "function enable_logging is not available"},
		{"SELECT * FROM query('SELECT * FROM read_text(''/etc/passwd'')')", "function query is not available"},
	} {
		res := runQueryIn(t, dir, env, tt.sql)
		lines := strings.Split(strings.TrimSpace(res.stderr), "\n")
		if res.exitCode != 1 || res.stdout != "" || !strings.HasPrefix(lines[0], "lakectl: ") || !strings.Contains(lines[0], tt.want) {
			t.Errorf("%s:\nexit %d, stdout %q, stderr:\n%s\nwant exit 1, no output, and an error with %q", tt.sql, res.exitCode, res.stdout, res.stderr, tt.want)
		}
	}
	// The same through stdin, as a script would send it.
	cmd := exec.CommandContext(t.Context(), lakectlBin, "query")
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader("COPY (SELECT 'x') TO '" + nextCommit + "';\n")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), refused) {
		t.Errorf("COPY on stdin: %v, output %q; want it refused", err, out)
	}

	if after := treeFiles(t, dir); !maps.EqualFunc(before, after, bytes.Equal) {
		t.Errorf("files of the pipeline changed:\n%s", diffFiles(before, after))
	}
	for _, name := range []string{"x.duckdb", "events.csv", "export"} {
		if _, err := os.Stat(filepath.Join(outside, name)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s was made outside the lake (stat: %v)", name, err)
		}
	}

	// The tables still read, and an analyst's --allow-local-files reads a local file
	// but still writes nothing.
	res := runQueryIn(t, dir, env, "SELECT count(*) AS n FROM silver.events", "--format", "csv")
	if res.exitCode != 0 || res.stdout != fmt.Sprintf("n\n%d\n", sum.UniqueEventIDs) {
		t.Errorf("count of silver.events after the escapes: %+v, want %d", res, sum.UniqueEventIDs)
	}
	res = runQueryIn(t, dir, env, "SELECT count(*) AS n FROM read_csv('reference/users.csv')", "--format", "csv", "--allow-local-files")
	if res.exitCode != 0 || res.stdout != "n\n10000\n" {
		t.Errorf("read_csv with --allow-local-files: %+v, want 10000 rows", res)
	}
	res = runQueryIn(t, dir, env, "COPY (SELECT 'x') TO '"+nextCommit+"'", "--allow-local-files")
	if res.exitCode != 1 || !strings.Contains(res.stderr, refused) {
		t.Errorf("COPY with --allow-local-files: %+v, want it refused", res)
	}
	if after := treeFiles(t, dir); !maps.EqualFunc(before, after, bytes.Equal) {
		t.Errorf("files of the pipeline changed with --allow-local-files:\n%s", diffFiles(before, after))
	}

	// The audit's other finding on this lake: with one live Silver file deleted, Bronze
	// still reads, and a query of Silver names the table, the file and the fix.
	t.Run("a broken Silver table fails only the queries that use it", func(t *testing.T) {
		if err := os.Remove(filepath.Join(dir, silverFile)); err != nil {
			t.Fatal(err)
		}
		res := runQueryIn(t, dir, env, "SELECT count(*) AS n FROM bronze.events", "--format", "csv")
		if res.exitCode != 0 || res.stdout != fmt.Sprintf("n\n%d\n", sum.Sent) {
			t.Errorf("count of bronze.events with a Silver file missing: %+v, want %d", res, sum.Sent)
		}
		rel := strings.TrimPrefix(silverFile, "lake/silver/events/")
		res = runQueryIn(t, dir, env, `SELECT count(*) FROM bronze.events b JOIN silver.events s ON s._offset = b."offset"`)
		want := "lakectl: silver.events: data file " + rel + " is missing (listed in v" + fmt.Sprint(len(commits)-1) + ")\n" +
			"hint: run lakectl table check " + filepath.Join(dir, "lake", "silver", "events") + "\n"
		if res.exitCode != 1 || res.stderr != want {
			t.Errorf("query of the broken silver.events: exit %d, stderr:\n%s\nwant exit 1 and\n%s", res.exitCode, res.stderr, want)
		}
	})
}

// runQueryIn runs `lakectl query SQL args...` with dir as the working directory, so
// relative paths in the SQL point into the pipeline, as they did in the audit.
func runQueryIn(t *testing.T, dir string, env []string, sql string, args ...string) cliResult {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), lakectlBin, append([]string{"query", sql}, args...)...)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := cliResult{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.exitCode = exit.ExitCode()
	case err != nil:
		t.Fatalf("run lakectl query %q: %v", sql, err)
	}
	return res
}

// treeFiles reads every file under dir: slash path relative to dir -> bytes.
func treeFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// diffFiles names the files added, removed or changed from before to after.
func diffFiles(before, after map[string][]byte) string {
	var b strings.Builder
	for _, p := range slices.Sorted(maps.Keys(after)) {
		old, ok := before[p]
		switch {
		case !ok:
			b.WriteString("added " + p + "\n")
		case !bytes.Equal(old, after[p]):
			b.WriteString("changed " + p + "\n")
		}
	}
	for _, p := range slices.Sorted(maps.Keys(before)) {
		if _, ok := after[p]; !ok {
			b.WriteString("removed " + p + "\n")
		}
	}
	return b.String()
}
