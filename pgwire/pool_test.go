package pgwire_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/pgwire"
)

const (
	opsUser     = "ops"
	opsPassword = "ops pass"
)

// prepared counts the sessions the server prepared, by user, from its log.
type prepared struct {
	mu     sync.Mutex
	byUser map[string]int
}

func (p *prepared) Enabled(context.Context, slog.Level) bool { return true }
func (p *prepared) WithAttrs([]slog.Attr) slog.Handler       { return p }
func (p *prepared) WithGroup(string) slog.Handler            { return p }
func (p *prepared) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "session prepared" {
		return nil
	}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "user" {
			p.mu.Lock()
			p.byUser[a.Value.String()]++
			p.mu.Unlock()
		}
		return true
	})
	return nil
}

func (p *prepared) count(user string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.byUser[user]
}

// startPooled serves store to the dashboard user and to ops, who reads only Silver,
// and counts the sessions prepared.
func startPooled(t *testing.T, store lake.Store, dashboardReads []engine.TableName) (string, *prepared) {
	t.Helper()
	p := &prepared{byUser: map[string]int{}}
	addr := startServer(t, store, pgwire.Config{
		Logger: slog.New(p),
		Users: map[string]pgwire.User{
			dashboardUser: {Password: dashboardPassword, Reads: dashboardReads},
			opsUser:       {Password: opsPassword, Reads: []engine.TableName{{Schema: "silver", Name: "events"}}},
		},
	})
	return addr, p
}

func connectAs(t *testing.T, addr, user, password string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), connString(addr, user, password))
	if err != nil {
		t.Fatalf("connect as %s: %v", user, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func queryLines(t *testing.T, conn *pgx.Conn, sql string) []string {
	t.Helper()
	rows, err := conn.Query(t.Context(), sql, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	var out []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmtRow(vals...))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return out
}

const listTables = `SELECT table_schema || '.' || table_name FROM information_schema.tables ORDER BY 1`

// A session kept for one user's query answers only that user's next queries: the
// other user's catalog lists its own tables alone, and its query of the first user's
// table is refused, whatever sessions are kept.
func TestReusedSessionKeepsUsersApart(t *testing.T) {
	addr, prep := startPooled(t, testLake(t), dashboardReads)
	dash := connectAs(t, addr, dashboardUser, dashboardPassword)
	ops := connectAs(t, addr, opsUser, opsPassword)
	for range 2 {
		if got, want := queryLines(t, dash, listTables), []string{"gold.daily", "views.kpis"}; !slices.Equal(got, want) {
			t.Errorf("dashboard's tables: got %q, want %q", got, want)
		}
		if got, want := queryLines(t, ops, listTables), []string{"silver.events"}; !slices.Equal(got, want) {
			t.Errorf("ops's tables: got %q, want %q", got, want)
		}
		if got, want := queryLines(t, dash, "SELECT count(*) FROM views.kpis"), []string{"3"}; !slices.Equal(got, want) {
			t.Errorf("dashboard's kpis: got %q, want %q", got, want)
		}
		_, err := ops.Exec(t.Context(), "SELECT count(*) FROM views.kpis", pgx.QueryExecModeSimpleProtocol)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
			t.Errorf("ops reading views.kpis: got %v, want SQLSTATE 42501", err)
		}
	}
	// The second round ran in the sessions of the first: one per user and tables.
	if got := prep.count(dashboardUser); got != 2 {
		t.Errorf("dashboard: %d sessions prepared for two rounds of two queries, want 2", got)
	}
	if got := prep.count(opsUser); got != 1 {
		t.Errorf("ops: %d sessions prepared for two rounds of one query, want 1", got)
	}
}

// A commit makes the next query a session of the new snapshot, whose catalog lists
// the new table; until then the kept session answers.
func TestReusedSessionSeesNewCommit(t *testing.T) {
	store := testLake(t)
	later := engine.TableName{Schema: "gold", Name: "later"}
	addr, prep := startPooled(t, store, append(slices.Clone(dashboardReads), later))
	conn := connectAs(t, addr, dashboardUser, dashboardPassword)
	for range 2 {
		if got, want := queryLines(t, conn, "SELECT count(*) FROM gold.daily"), []string{"1"}; !slices.Equal(got, want) {
			t.Fatalf("before the commit: got %q, want %q", got, want)
		}
		if got, want := queryLines(t, conn, listTables), []string{"gold.daily", "views.kpis"}; !slices.Equal(got, want) {
			t.Fatalf("before the commit: tables %q, want %q", got, want)
		}
	}
	if got := prep.count(dashboardUser); got != 2 {
		t.Fatalf("%d sessions prepared before the commit, want 2", got)
	}
	commitTables(t, store, "gold/daily", dailySQL, "gold/later", eventsSQL)
	if got, want := queryLines(t, conn, "SELECT count(*) FROM gold.daily"), []string{"2"}; !slices.Equal(got, want) {
		t.Errorf("after the commit: got %q, want %q", got, want)
	}
	if got, want := queryLines(t, conn, listTables), []string{"gold.daily", "gold.later", "views.kpis"}; !slices.Equal(got, want) {
		t.Errorf("after the commit: tables %q, want %q", got, want)
	}
	cols := `SELECT column_name || ' ' || data_type FROM information_schema.columns WHERE table_name = 'later' ORDER BY ordinal_position`
	if got, want := queryLines(t, conn, cols), []string{"user_id text", "n bigint"}; !slices.Equal(got, want) {
		t.Errorf("after the commit: gold.later's columns %q, want %q", got, want)
	}
	if got := prep.count(dashboardUser); got != 4 {
		t.Errorf("%d sessions prepared, want 4: the two of before the commit, and two of after", got)
	}
}

// What a query tries to leave in its session does not reach the next query that
// reuses it: statements that would are refused or answered without DuckDB, and a
// session whose query seeded random() is not kept.
func TestReusedSessionKeepsNoState(t *testing.T) {
	addr, prep := startPooled(t, testLake(t), dashboardReads)
	conn := connectAs(t, addr, dashboardUser, dashboardPassword)
	// Temporary objects of DuckDB's catalog, and the session's search path and
	// integer division, in the session that answers queries of views.kpis.
	probe := `SELECT (SELECT count(*) FROM views.kpis),
		(SELECT count(*) FROM duckdb_tables() WHERE temporary) || ' ' || (SELECT count(*) FROM duckdb_views() WHERE temporary AND NOT internal)
			|| ' ' || (SELECT count(*) FROM duckdb_functions() WHERE database_name = 'temp') || ' ' || (SELECT count(*) FROM duckdb_prepared_statements()),
		(SELECT '[' || value || ']' FROM duckdb_settings() WHERE name = 'search_path'), 7 / 2`
	want := []string{"3 0 0 0 0 [] 3"}
	if got := queryLines(t, conn, probe); !slices.Equal(got, want) {
		t.Fatalf("first probe: got %q, want %q", got, want)
	}
	for _, sql := range []string{
		"CREATE TEMP TABLE scratch AS SELECT * FROM views.kpis",
		"CREATE TEMP VIEW scratch AS SELECT 1",
		"CREATE MACRO temp.seven() AS 7",
		"PREPARE p AS SELECT 1",
		"SET search_path = 'views'",
		"SET integer_division = false",
		"SELECT setseed(0.5)",
		"SELECT setseed(0.25)",
	} {
		// Refused, or a session statement answered without DuckDB: either way the
		// next probe tells.
		conn.Exec(t.Context(), sql, pgx.QueryExecModeSimpleProtocol)
	}
	if got := queryLines(t, conn, probe); !slices.Equal(got, want) {
		t.Errorf("probe after the statements: got %q, want %q", got, want)
	}
	if got := prep.count(dashboardUser); got != 3 {
		t.Errorf("%d sessions prepared, want 3: the probe's, and one for each setseed, whose session is not kept", got)
	}
}

// A session for a statement that reads no catalog is made without one, and divides
// as PostgreSQL does; a statement that calls a catalog function or names a catalog
// type gets a session with the catalog, as DuckDB's parse of it tells.
func TestSessionWithoutCatalog(t *testing.T) {
	addr, prep := startPooled(t, testLake(t), dashboardReads)
	conn := connectAs(t, addr, dashboardUser, dashboardPassword)
	for sql, want := range map[string]string{
		`SELECT (SELECT count(*) FROM duckdb_schemas() WHERE schema_name = 'lakectl_pg'), CAST(sum(events) AS BIGINT) / 7 FROM views.kpis`: "0 4",
		`SELECT version() LIKE 'PostgreSQL%', current_database() FROM views.kpis LIMIT 1`:                                                  "true lakectl",
		`SELECT CAST(count(*) AS regtype) FROM views.kpis`:                                                                                 "3",
	} {
		if got := queryLines(t, conn, sql); !slices.Equal(got, []string{want}) {
			t.Errorf("%s: got %q, want %q", sql, got, want)
		}
	}
	// All pin every file of views.kpis: a session without the catalog, and one with.
	if got := prep.count(dashboardUser); got != 2 {
		t.Errorf("%d sessions prepared, want 2", got)
	}
}
