package main

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/internal/s3server"
	"github.com/lakectl/lakectl/lake"
	lakefs "github.com/lakectl/lakectl/lake/fs"
)

// monthDays and filesPerDay shape the table of the pruning tests: a month of days,
// a few files each.
const (
	monthDays   = 30
	filesPerDay = 2
)

// dayRows are the rows of one file of day $1 (0-based), file $2.
const dayRows = `SELECT DATE '2026-11-01' + CAST($1 AS INTEGER) AS day,
       CAST($1 * 1000 + $2 * 100 + i AS BIGINT) AS id,
       CAST(($1 * 1000 + $2 * 100 + i) / 4 AS DECIMAL(18,2)) AS amount
FROM range(50) AS r(i)`

// writeMonth writes silver/events into store: monthDays days partitioned by day,
// filesPerDay files each, every one a Delta commit of lakectl's own writer.
func writeMonth(t *testing.T, store lake.Store) {
	t.Helper()
	ctx := t.Context()
	sess, err := engine.Open(ctx, engine.Config{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	schema, err := sess.QuerySchema(ctx, dayRows, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	js, err := schema.JSON()
	if err != nil {
		t.Fatal(err)
	}
	table := lake.NewTable(store, "silver/events", lake.WithCheckpointInterval(0))
	tx := table.Begin(nil)
	tx.SetMetadata(lake.Metadata{Name: "events", SchemaString: js, PartitionColumns: []string{"day"}})
	if _, err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	for day := range monthDays {
		var adds []lake.Add
		for f := range filesPerDay {
			a, err := sess.WriteFiles(ctx, table, []string{"day"}, dayRows, day, f)
			if err != nil {
				t.Fatal(err)
			}
			adds = append(adds, a...)
		}
		snap, err := table.Latest(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tx := table.Begin(snap)
		tx.Add(adds...)
		if _, err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

var explainRe = regexp.MustCompile(`explain: silver\.events v\d+: reads (\d+) of (\d+) files \(([^)]*) of .*; (\d+) files downloaded \(([^)]*)\)`)

// checkOneDay runs a one-day query with --explain on the lake at url, and the same
// query in a form that cannot prune, and checks they agree, and that the first read
// (and downloaded, for a remote lake) only that day's files.
func checkOneDay(t *testing.T, env []string, url string, wantDownloads int) {
	t.Helper()
	const pruned = "SELECT count(*) AS n, sum(amount) AS s, min(id) AS lo FROM silver.events WHERE day = '2026-11-04'"
	const whole = "SELECT count(*) AS n, sum(amount) AS s, min(id) AS lo FROM silver.events WHERE day + 0 = DATE '2026-11-04'"
	res := runLakectlEnv(t, env, "query", "--lake", url, "--format", "csv", "--explain", pruned)
	if res.exitCode != 0 {
		t.Fatalf("one-day query: exit %d, %s", res.exitCode, res.stderr)
	}
	if want := fmt.Sprintf("n,s,lo\n%d,%s,3000\n", 50*filesPerDay, daySum(3)); res.stdout != want {
		t.Errorf("one-day query: %q, want %q", res.stdout, want)
	}
	m := explainRe.FindStringSubmatch(res.stderr)
	if m == nil {
		t.Fatalf("no explain line for silver.events on stderr: %q", res.stderr)
	}
	if want := []string{fmt.Sprint(filesPerDay), fmt.Sprint(monthDays * filesPerDay), fmt.Sprint(wantDownloads)}; m[1] != want[0] || m[2] != want[1] || m[4] != want[2] {
		t.Errorf("explain: read %s of %s files, %s downloaded; want %s of %s, %s", m[1], m[2], m[4], want[0], want[1], want[2])
	}
	// What was downloaded is what was read, or nothing for a local lake.
	if wantBytes := map[bool]string{true: m[3], false: "0 B"}[wantDownloads > 0]; m[5] != wantBytes {
		t.Errorf("explain: %s downloaded, want %s", m[5], wantBytes)
	}
	if !strings.Contains(res.stderr, "on day") {
		t.Errorf("explain does not name the column it pruned on: %q", res.stderr)
	}
	if got := mustLakectlEnv(t, append(env, "XDG_CACHE_HOME="+t.TempDir()), "query", "--lake", url, "--format", "csv", whole); got != res.stdout {
		t.Errorf("the query that cannot prune gives %q, the pruned one %q", got, res.stdout)
	}
}

// daySum is sum(amount) of a day, with the decimal's two digits.
func daySum(day int) string {
	var cents int64
	for f := range filesPerDay {
		for i := range 50 {
			cents += int64(day*1000+f*100+i) * 100 / 4
		}
	}
	return fmt.Sprintf("%d.%02d", cents/100, cents%100)
}

// TestQueryPrunesLocalLake: on a local lake, a one-day query over a month reads only
// that day's files, with the result of the query that reads them all.
func TestQueryPrunesLocalLake(t *testing.T) {
	dir := t.TempDir()
	store, err := lakefs.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	writeMonth(t, store)
	checkOneDay(t, []string{"XDG_CACHE_HOME=" + t.TempDir()}, dir, 0)
}

// TestQueryPrunesOnMinIO: on an S3 lake (MinIO), a one-day query over a month
// downloads into the cache only that day's files.
func TestQueryPrunesOnMinIO(t *testing.T) {
	srv := s3server.Start(t, s3server.MinIO)
	prefix := s3server.UniquePrefix(t)
	local := t.TempDir()
	store, err := lakefs.New(local)
	if err != nil {
		t.Fatal(err)
	}
	writeMonth(t, store)
	uploadTree(t, srv, prefix, local)
	cacheDir := t.TempDir()
	env := []string{"AWS_ACCESS_KEY_ID=" + srv.AccessKey, "AWS_SECRET_ACCESS_KEY=" + srv.SecretKey, "XDG_CACHE_HOME=" + cacheDir}
	checkOneDay(t, env, srv.URL(prefix), filesPerDay)
	if cached := cachedDataFiles(t, cacheDir); len(cached) != filesPerDay {
		t.Errorf("%d data files in the cache after a one-day query, want that day's %d: %q", len(cached), filesPerDay, cached)
	}
}

// TestQueryPromptWidensPrunedTables: statements of one prompt session that need other
// files of a table than the ones before it see them all: the session is rebuilt, not
// reused with the files of the first statement's day.
func TestQueryPromptWidensPrunedTables(t *testing.T) {
	dir := t.TempDir()
	store, err := lakefs.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	writeMonth(t, store)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	pf := pipelineFlags{}
	pf.ov.Store = dir
	env, err := pf.openQuery(t.Context(), false)
	if err != nil {
		t.Fatal(err)
	}
	var explain strings.Builder
	q := &querier{tables: newLakeTables(env, snapshotSelector{}), explain: &explain}
	defer q.Close()
	var out, errw strings.Builder
	in := strings.NewReader(`SELECT count(*) AS n FROM silver.events WHERE day = '2026-11-04';
SELECT count(*) AS n FROM silver.events WHERE day = '2026-11-05';
SELECT count(*) AS n FROM silver.events WHERE day = '2026-11-04';
SELECT count(*) AS n FROM silver.events;
`)
	if err := prompt(t.Context(), q, "csv", in, &out, &errw); err != nil {
		t.Fatal(err)
	}
	day, month := 50*filesPerDay, 50*filesPerDay*monthDays
	if want := fmt.Sprintf("n\n%d\nn\n%d\nn\n%d\nn\n%d\n", day, day, day, month); out.String() != want {
		t.Errorf("prompt: %q, want %q (stderr %q)", out.String(), want, errw.String())
	}
	if !strings.Contains(explain.String(), "all already registered") {
		t.Errorf("the third statement, whose day the session holds, registered again:\n%s", explain.String())
	}
}
