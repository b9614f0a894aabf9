package engine

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lakectl/lakectl/engine/sqlfrag"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/cache"
	lakefs "github.com/lakectl/lakectl/lake/fs"
)

// sandboxLake is a local lake of two tables, silver/events (3 rows, partitioned) and
// silver/other (2 rows), and a sealed session in which only silver.events is registered.
type sandboxLake struct {
	dir    string
	events *lake.Table
	other  *lake.Table
	sess   *Session
}

func newSandboxLake(t *testing.T, opts SealOptions) *sandboxLake {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	store, err := lakefs.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	writer := openSession(t)
	events := createTable(t, writer, store, "silver/events", []string{"day"}, "SELECT 1 AS id, DATE '2026-11-21' AS day")
	appendQuery(t, writer, events, []string{"day"}, "SELECT i AS id, DATE '2026-11-21' + CAST(i % 2 AS INTEGER) AS day FROM range(3) t(i)")
	other := createTable(t, writer, store, "silver/other", nil, "SELECT 'x' AS secret")
	appendQuery(t, writer, other, nil, "SELECT 'classified' AS secret FROM range(2)")

	l := &sandboxLake{dir: dir, events: events, other: other, sess: openSession(t)}
	snap, err := events.Latest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.sess.RegisterTable(ctx, "silver", "events", snap, TableFiles(events, cache.New(store, t.TempDir(), 0))); err != nil {
		t.Fatal(err)
	}
	if err := l.sess.Seal(ctx, opts); err != nil {
		t.Fatal(err)
	}
	return l
}

// files reads every file under the lake: path -> bytes.
func (l *sandboxLake) files(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(l.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		out[p] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// userQuery parses and runs user SQL and reads the result to the end, as lakectl
// query does.
func userQuery(t *testing.T, s *Session, sql string) ([]string, error) {
	t.Helper()
	q, err := s.ParseUserSQL(t.Context(), sql)
	if err != nil {
		return nil, err
	}
	rows, err := s.QueryUser(t.Context(), q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v any
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, fmt.Sprint(v))
	}
	return out, rows.Err()
}

// TestSealedSessionRefusesEveryEscape runs the audit's escapes, and the others DuckDB
// offers, as user SQL: each fails, the lake's files stay byte for byte as they were,
// and the registered table still reads.
func TestSealedSessionRefusesEveryEscape(t *testing.T) {
	l := newSandboxLake(t, SealOptions{})
	before := l.files(t)
	var eventsFile, otherFile string
	for p := range before {
		switch {
		case strings.Contains(p, "silver/events/day=") && strings.HasSuffix(p, ".parquet"):
			eventsFile = p
		case strings.Contains(p, "silver/other/") && strings.HasSuffix(p, ".parquet"):
			otherFile = p
		}
	}
	deltaLog := filepath.Join(l.dir, "silver/events/_delta_log")
	nextCommit := filepath.Join(deltaLog, "00000000000000000002.json")
	extraDB := filepath.Join(t.TempDir(), "x.duckdb")

	for _, sql := range []string{
		// Writes.
		"COPY (SELECT '{}' AS x) TO " + lit(nextCommit) + " (FORMAT csv, HEADER false)",
		"COPY (SELECT 42 AS id) TO " + lit(eventsFile) + " (FORMAT parquet, USE_TMP_FILE false)",
		"COPY silver.events TO " + lit(filepath.Join(t.TempDir(), "out.csv")),
		"EXPORT DATABASE " + lit(filepath.Join(t.TempDir(), "export")),
		"CREATE TABLE kept AS SELECT * FROM silver.events",
		"INSERT INTO silver.events VALUES (9, DATE '2026-11-21')",
		"CREATE OR REPLACE VIEW silver.events AS SELECT 0 AS id",
		"ATTACH " + lit(extraDB) + " AS x",
		"ATTACH ':memory:' AS m",
		"SELECT 1; COPY (SELECT 1) TO " + lit(nextCommit),
		// Reads of local files.
		"SELECT * FROM read_csv('/etc/passwd')",
		"SELECT * FROM read_text('/etc/passwd')",
		"SELECT * FROM read_blob('/etc/passwd')",
		"SELECT * FROM glob('/etc/*')",
		"SELECT * FROM '/etc/passwd'",
		"SELECT * FROM read_text(" + lit(filepath.Join(deltaLog, "00000000000000000000.json")) + ")",
		"SELECT * FROM glob(" + lit(filepath.Join(l.dir, "**")) + ")",
		"SELECT * FROM read_parquet(" + lit(otherFile) + ")",
		"SELECT * FROM parquet_metadata(" + lit(otherFile) + ")",
		"SELECT * FROM sniff_csv('/etc/passwd')",
		// Extensions and settings.
		"INSTALL httpfs",
		"LOAD httpfs",
		"SET enable_external_access = true",
		"RESET enable_external_access",
		"SET lock_configuration = false",
		"SET allowed_directories = ['/']",
		"SET allowed_paths = ['/etc/passwd']",
		"SET memory_limit = '100GiB'",
		"PRAGMA enable_profiling",
		"PRAGMA profiling_output = '/tmp/profile.json'",
		"SELECT * FROM enable_logging(storage = 'file', storage_path = " + lit(deltaLog) + ")",
		"SELECT * FROM query('SELECT * FROM read_text(''/etc/passwd'')')",
		"SELECT * FROM json_execute_serialized_sql(json_serialize_sql('SELECT 1'))",
		"SELECT * FROM checkpoint()",
	} {
		got, err := userQuery(t, l.sess, sql)
		if err == nil {
			t.Errorf("%s: ran, result %q; want it refused", sql, got)
		}
	}

	if after := l.files(t); !maps.Equal(before, after) {
		t.Errorf("the lake's files changed: before %d files %q, after %d %q", len(before), slices.Sorted(maps.Keys(before)), len(after), slices.Sorted(maps.Keys(after)))
	}
	if _, err := os.Stat(extraDB); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ATTACH made %s (stat: %v)", extraDB, err)
	}
	if got, err := userQuery(t, l.sess, "SELECT count(*) FROM silver.events"); err != nil || !slices.Equal(got, []string{"3"}) {
		t.Errorf("count(*) of the registered table after the escapes = %q, %v; want 3", got, err)
	}
}

// TestSealedSessionDuckDBLayer: DuckDB's own settings refuse the escapes even where
// SQL bypasses lakectl's statement check, except a write to a registered file, which
// only that check stops (see the package's sandbox doc).
func TestSealedSessionDuckDBLayer(t *testing.T) {
	l := newSandboxLake(t, SealOptions{})
	before := l.files(t)
	deltaLog := filepath.Join(l.dir, "silver/events/_delta_log")
	for _, tt := range []struct{ sql, want string }{
		{"COPY (SELECT 'x') TO " + lit(filepath.Join(deltaLog, "00000000000000000002.json")), "file system operations are disabled"},
		{"SELECT * FROM read_csv('/etc/passwd')", "file system operations are disabled"},
		{"SELECT * FROM read_text('/etc/passwd')", "file system operations are disabled"},
		{"SELECT * FROM read_blob('/etc/passwd')", "file system operations are disabled"},
		{"SELECT * FROM glob('/etc/*')", "file system operations are disabled"},
		{"ATTACH " + lit(filepath.Join(t.TempDir(), "x.duckdb")), "file system operations are disabled"},
		{"EXPORT DATABASE " + lit(filepath.Join(t.TempDir(), "export")), "file system operations are disabled"},
		{"INSTALL httpfs", "disabled"},
		{"LOAD httpfs", "disabled"},
		{"SET enable_external_access = true", "the configuration has been locked"},
		{"RESET enable_external_access", "the configuration has been locked"},
		{"SET lock_configuration = false", "the configuration has been locked"},
		{"SET allowed_directories = ['/']", "the configuration has been locked"},
		{"SET allowed_paths = ['/etc/passwd']", "the configuration has been locked"},
		{"SET autoload_known_extensions = true", "the configuration has been locked"},
		{"SET allow_unsigned_extensions = true", "the configuration has been locked"},
		{"SET temp_directory = '/tmp'", "the configuration has been locked"},
		{"PRAGMA threads = 1", "the configuration has been locked"},
	} {
		_, err := l.sess.ExecContext(t.Context(), tt.sql)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err %v, want one with %q", tt.sql, err, tt.want)
		}
	}
	// Open turned extension loading off when it made the database; the lock keeps it so.
	for _, name := range []string{"autoinstall_known_extensions", "autoload_known_extensions", "allow_community_extensions", "allow_unsigned_extensions"} {
		var on bool
		if err := l.sess.QueryRowContext(t.Context(), "SELECT CAST(current_setting("+lit(name)+") AS BOOLEAN)").Scan(&on); err != nil || on {
			t.Errorf("%s in a sealed session: %v, err %v; want false", name, on, err)
		}
	}
	if after := l.files(t); !maps.Equal(before, after) {
		t.Errorf("the lake's files changed")
	}
}

// TestSealedSessionRefusesBeforeDuckDB: statements that are not queries and the
// forbidden functions are refused by ParseUserSQL with a reason, never run.
func TestSealedSessionRefusesBeforeDuckDB(t *testing.T) {
	s := openSession(t)
	for _, tt := range []struct{ sql, want string }{
		{"COPY (SELECT 1) TO 'x.csv'", "only queries run here"},
		{"SELECT 1; ATTACH 'x.duckdb'", "only queries run here"},
		{"SET VARIABLE x = 1", "only queries run here"},
		{"EXPLAIN SELECT 1", "only queries run here"},
		{"SELECT * FROM enable_logging()", "function enable_logging is not available"},
		{"SELECT length(x) FROM (SELECT write_log('x') AS x)", "function write_log is not available"},
		{"SELECT * FROM main.query_table('silver.events')", "function query_table is not available"},
		{"SELEC 1", "syntax error"},
	} {
		_, err := s.ParseUserSQL(t.Context(), tt.sql)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseUserSQL(%q): err %v, want one with %q", tt.sql, err, tt.want)
		}
	}
}

func TestParseUserSQLNamesEveryTable(t *testing.T) {
	s := openSession(t)
	for _, tt := range []struct {
		sql  string
		want []string
	}{
		{"SELECT count(*) FROM bronze.events", []string{"bronze.events"}},
		{"SELECT * FROM silver.events JOIN ref.users USING (user_id)", []string{"ref.users", "silver.events"}},
		{"SELECT * FROM Silver.Events e, (SELECT * FROM quarantine.events) q", []string{"quarantine.events", "silver.events"}},
		{"SELECT (SELECT count(*) FROM gold.daily) FROM silver.events WHERE id IN (SELECT id FROM views.v)", []string{"gold.daily", "silver.events", "views.v"}},
		{"WITH a AS (SELECT * FROM bronze.events) SELECT * FROM a", []string{"a", "bronze.events"}},
		{"DESCRIBE silver.events", []string{"silver.events"}},
		{"SUMMARIZE ref.users", []string{"ref.users"}},
		{"SELECT 1 FROM bronze.events; SELECT 2 FROM bronze.events UNION ALL SELECT 3 FROM silver.events", []string{"bronze.events", "silver.events"}},
		{"SELECT 1", nil},
	} {
		q, err := s.ParseUserSQL(t.Context(), tt.sql)
		if err != nil {
			t.Errorf("ParseUserSQL(%q): %v", tt.sql, err)
			continue
		}
		var got []string
		for _, n := range q.Tables {
			got = append(got, n.String())
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("ParseUserSQL(%q).Tables = %q, want %q", tt.sql, got, tt.want)
		}
	}
}

// The functions a statement calls and the types DuckDB's parser does not know are
// listed, wherever they are: a caller decides from them what the session needs.
func TestParseUserSQLNamesFunctionsAndTypes(t *testing.T) {
	s := openSession(t)
	q, err := s.ParseUserSQL(t.Context(), "SELECT Version(), x::regclass, CAST(y AS BIGINT) FROM t WHERE z IN (SELECT upper(v) FROM u) AND w = CAST(1 AS my_schema.Mood)")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"upper", "version"}; !slices.Equal(q.Functions, want) {
		t.Errorf("Functions = %q, want %q", q.Functions, want)
	}
	if want := []string{"mood", "regclass"}; !slices.Equal(q.Types, want) {
		t.Errorf("Types = %q, want %q", q.Types, want)
	}
}

func TestSealedSessionTakesNoRegistration(t *testing.T) {
	l := newSandboxLake(t, SealOptions{})
	snap, err := l.other.Latest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	err = l.sess.RegisterTable(t.Context(), "silver", "other", snap, TableFiles(l.other, cache.New(l.other.Store(), t.TempDir(), 0)))
	if !errors.Is(err, ErrSealed) {
		t.Errorf("RegisterTable after Seal: %v, want ErrSealed", err)
	}
	if _, err := userQuery(t, l.sess, "SELECT * FROM silver.other"); err == nil {
		t.Error("silver.other reads after a registration refused")
	}
}

func TestUnsealedSessionRunsNoUserSQL(t *testing.T) {
	s := openSession(t)
	q, err := s.ParseUserSQL(t.Context(), "SELECT 1")
	if err != nil {
		t.Fatal(err)
	}
	if rows, err := s.QueryUser(t.Context(), q); err == nil {
		rows.Close()
		t.Error("QueryUser ran on a session that was not sealed")
	}
}

// TestAllowLocalFilesReadsButNeverWrites: the analyst's opt-in reads local files; the
// rest of the seal holds.
func TestAllowLocalFilesReadsButNeverWrites(t *testing.T) {
	l := newSandboxLake(t, SealOptions{AllowLocalFiles: true})
	before := l.files(t)
	csv := filepath.Join(t.TempDir(), "mine.csv")
	if err := os.WriteFile(csv, []byte("a,b\n1,2\n3,4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := userQuery(t, l.sess, "SELECT sum(a + b) FROM read_csv("+lit(csv)+")"); err != nil || !slices.Equal(got, []string{"10"}) {
		t.Errorf("read_csv of a local file = %q, %v; want 10", got, err)
	}
	for _, sql := range []string{
		"COPY (SELECT 'x') TO " + lit(filepath.Join(l.dir, "silver/events/_delta_log/00000000000000000002.json")),
		"COPY (SELECT 'x') TO " + lit(filepath.Join(t.TempDir(), "out.csv")),
		"ATTACH " + lit(filepath.Join(t.TempDir(), "x.duckdb")),
		"SET enable_external_access = true",
		"LOAD httpfs",
	} {
		if got, err := userQuery(t, l.sess, sql); err == nil {
			t.Errorf("%s: ran, result %q; want it refused", sql, got)
		}
	}
	if after := l.files(t); !maps.Equal(before, after) {
		t.Errorf("the lake's files changed")
	}
}

// TestRegisterMissingFile: a live data file that is not in the store fails the
// registration with its path and the version that lists it.
func TestRegisterMissingFile(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	store, err := lakefs.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	w := openSession(t)
	table := createTable(t, w, store, "silver/events", []string{"day"}, "SELECT 1 AS id, DATE '2026-11-21' AS day")
	adds := appendQuery(t, w, table, []string{"day"}, "SELECT 1 AS id, DATE '2026-11-21' AS day")
	if err := os.Remove(filepath.Join(dir, "silver/events", adds[0].DecodedPath())); err != nil {
		t.Fatal(err)
	}
	snap, err := table.Latest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = openSession(t).RegisterTable(ctx, "silver", "events", snap, TableFiles(table, cache.New(store, t.TempDir(), 0)))
	var missing *MissingFileError
	if !errors.As(err, &missing) || missing.Path != adds[0].Path || missing.Version != snap.Version || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("RegisterTable with a missing file: %v, want a MissingFileError for %s in v%d", err, adds[0].Path, snap.Version)
	}
	if want := "data file " + adds[0].Path + " is missing (listed in v1)"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
}

// TestSealedSessionKeepsBundledExtensions: the seal stops extensions from loading, so
// the bundled ones that queries use (json, icu time zones, parquet) must already work.
func TestSealedSessionKeepsBundledExtensions(t *testing.T) {
	s := openSession(t)
	if err := s.Seal(t.Context(), SealOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ sql, want string }{
		{`SELECT '{"a": 7}'::JSON->>'a'`, "7"},
		{"SELECT strftime(TIMESTAMPTZ '2026-11-21 08:00:00+00' AT TIME ZONE 'Europe/Berlin', '%H')", "09"},
		{"SELECT count(*) > 0 FROM pg_timezone_names()", "true"},
		{"SELECT date_trunc('day', TIMESTAMPTZ '2026-11-21 08:30:00+00')::VARCHAR", "2026-11-21 00:00:00+00"},
	} {
		if got, err := userQuery(t, s, tt.sql); err != nil || !slices.Equal(got, []string{tt.want}) {
			t.Errorf("%s = %q, %v; want %s", tt.sql, got, err, tt.want)
		}
	}
}

// TestSealedSessionSpills: a sealed session may still write to its own temp
// directory, so an aggregate larger than the memory limit spills there rather than
// failing.
func TestSealedSessionSpills(t *testing.T) {
	s, err := Open(t.Context(), Config{MemoryLimit: "64MiB", Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Seal(t.Context(), SealOptions{}); err != nil {
		t.Fatal(err)
	}
	// Watch the temp directory while the query runs: DuckDB removes its files after.
	var spilled atomic.Bool
	done := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			if e, _ := os.ReadDir(s.tempDir); len(e) > 0 {
				spilled.Store(true)
			}
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	got, err := userQuery(t, s, "SELECT count(*) FROM (SELECT h, count(*) FROM (SELECT md5(CAST(i AS VARCHAR)) AS h FROM range(4000000) t(i)) GROUP BY h)")
	close(done)
	<-watched
	if err != nil || !slices.Equal(got, []string{"4000000"}) {
		t.Fatalf("an aggregate past the memory limit in a sealed session = %q, %v; want 4000000", got, err)
	}
	if !spilled.Load() {
		t.Error("the aggregate never wrote to the session's temp directory; the test no longer spills")
	}
}

// TestSealedSessionWriteFiles: lakectl's own WriteFiles still works in a sealed
// session (it writes into the session's temp directory, then uploads from Go), so a
// Gold model, checked by ParseUserSQL, can be written from the sandbox.
func TestSealedSessionWriteFiles(t *testing.T) {
	l := newSandboxLake(t, SealOptions{})
	ctx := t.Context()
	q, err := l.sess.ParseUserSQL(ctx, "SELECT day, count(*) AS n FROM silver.events GROUP BY day")
	if err != nil {
		t.Fatal(err)
	}
	gold := createTable(t, openSession(t), l.events.Store(), "gold/daily", []string{"day"}, "SELECT DATE '2026-11-21' AS day, CAST(1 AS BIGINT) AS n")
	adds, err := l.sess.WriteFiles(ctx, gold, []string{"day"}, q.String())
	if err != nil {
		t.Fatalf("WriteFiles in a sealed session: %v", err)
	}
	var rows int64
	for _, a := range adds {
		st, ok, err := a.ParseStats()
		if err != nil || !ok {
			t.Fatalf("stats of %s: %v (present: %v)", a.Path, err, ok)
		}
		rows += st.NumRecords
	}
	if len(adds) != 2 || rows != 2 {
		t.Errorf("WriteFiles in a sealed session: %d files, %d rows; want 2 days, one row each", len(adds), rows)
	}
}

// lit quotes a string as an SQL literal, for the statements the tests try.
func lit(s string) string { return sqlfrag.Str(s).String() }
