package pgwire_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/lakectl/lakectl/pgwire"
)

// A prepared statement that runs again reads the table's snapshot of then: each
// execution is pinned to the snapshot current when it starts.
func TestPreparedStatementReadsNewSnapshot(t *testing.T) {
	store := testLake(t)
	addr := startServer(t, store, pgwire.Config{})
	conn := connect(t, addr, pgx.QueryExecModeCacheStatement) // Parse once, Execute each time
	count := func() int64 {
		var n int64
		if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM gold.daily").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := count(); got != 1 {
		t.Fatalf("before the commit: got %d rows, want 1", got)
	}
	commitTables(t, store, "gold/daily", dailySQL)
	if got := count(); got != 2 {
		t.Errorf("after the commit: got %d rows, want 2", got)
	}
}

// The statements drivers send on their own are answered; the session stays
// read-only.
func TestSessionStatements(t *testing.T) {
	addr := startServer(t, testLake(t), pgwire.Config{})
	conn := connect(t, addr, pgx.QueryExecModeSimpleProtocol)
	for _, sql := range []string{"BEGIN", "SET extra_float_digits = 3", "SET application_name = 'superset'", "COMMIT", "ROLLBACK", "DISCARD ALL"} {
		if _, err := conn.Exec(t.Context(), sql); err != nil {
			t.Errorf("%s: %v", sql, err)
		}
	}
	for setting, want := range map[string]string{"transaction_read_only": "on", "TimeZone": "UTC", "server_version_num": "150000"} {
		var got string
		if err := conn.QueryRow(t.Context(), "SHOW "+setting).Scan(&got); err != nil || got != want {
			t.Errorf("SHOW %s: got %q, %v; want %q", setting, got, err, want)
		}
	}
	for param, want := range map[string]string{"TimeZone": "UTC", "DateStyle": "ISO, MDY", "integer_datetimes": "on",
		"standard_conforming_strings": "on", "client_encoding": "UTF8", "server_version": "15.0 (lakectl)"} {
		if got := conn.PgConn().ParameterStatus(param); got != want {
			t.Errorf("startup parameter %s: got %q, want %q", param, got, want)
		}
	}
}

// A query past its time limit is cancelled with SQLSTATE 57014.
func TestQueryTimeout(t *testing.T) {
	addr := startServer(t, testLake(t), pgwire.Config{QueryTimeout: 1}) // 1ns: over before it starts
	conn := connect(t, addr, pgx.QueryExecModeSimpleProtocol)
	_, err := conn.Exec(t.Context(), "SELECT count(*) FROM views.kpis")
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "57014" {
		t.Errorf("got %v, want SQLSTATE 57014", err)
	}
}

// A query of the lake's tables loads only theirs: a table whose log is broken fails
// the catalog queries, which list it, and not a query of another table.
func TestBrokenTableFailsOnlyItsReaders(t *testing.T) {
	store := testLake(t)
	broken := []byte("not a Delta action\n")
	if err := store.PutIfAbsent(t.Context(), "gold/daily/_delta_log/00000000000000000001.json", broken); err != nil {
		t.Fatal(err)
	}
	addr := startServer(t, store, pgwire.Config{})
	conn := connect(t, addr, pgx.QueryExecModeSimpleProtocol)
	var n int64
	if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM views.kpis").Scan(&n); err != nil || n != 3 {
		t.Errorf("views.kpis: got %d, %v; want 3 rows", n, err)
	}
	for _, sql := range []string{"SELECT count(*) FROM gold.daily", "SELECT count(*) FROM information_schema.tables"} {
		if _, err := conn.Exec(t.Context(), sql); err == nil || !strings.Contains(err.Error(), "gold.daily") {
			t.Errorf("%s: got %v, want an error naming gold.daily", sql, err)
		}
	}
}

// A result past the row limit is refused, not cut short.
func TestMaxRows(t *testing.T) {
	addr := startServer(t, testLake(t), pgwire.Config{MaxRows: 2})
	conn := connect(t, addr, pgx.QueryExecModeSimpleProtocol)
	_, err := conn.Exec(t.Context(), "SELECT * FROM views.kpis")
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "54000" || !strings.Contains(pgErr.Message, "more than 2 rows") {
		t.Errorf("3 rows past a limit of 2: got %v, want SQLSTATE 54000", err)
	}
	var n int64
	if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM views.kpis").Scan(&n); err != nil || n != 3 {
		t.Errorf("an aggregate: got %d, %v; want 3", n, err)
	}
}

// A message larger than the port's bound (1 MiB) is answered with an error, and the
// connection goes on; a statement of nearly that size runs.
func TestLargeMessage(t *testing.T) {
	addr := startServer(t, testLake(t), pgwire.Config{})
	conn := connect(t, addr, pgx.QueryExecModeSimpleProtocol)
	literal := func(n int) string { return "SELECT length('" + strings.Repeat("x", n) + "') AS n" }
	var n int64
	if err := conn.QueryRow(t.Context(), literal(900_000)).Scan(&n); err != nil || n != 900_000 {
		t.Errorf("a statement of 900 kB: got %d, %v; want 900000", n, err)
	}
	if err := conn.QueryRow(t.Context(), literal(2_000_000)).Scan(&n); err == nil || !strings.Contains(err.Error(), "size") {
		t.Errorf("a statement of 2 MB: got %d, %v; want an error about its size", n, err)
	}
	if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM views.kpis").Scan(&n); err != nil || n != 3 {
		t.Errorf("after the large statement: got %d, %v; want 3", n, err)
	}
}
