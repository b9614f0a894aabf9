package pgwire_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/lakectl/lakectl/pgwire"
)

func connect(t *testing.T, addr string, mode pgx.QueryExecMode) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(connString(addr, dashboardUser, dashboardPassword))
	if err != nil {
		t.Fatal(err)
	}
	cfg.DefaultQueryExecMode = mode
	conn, err := pgx.ConnectConfig(t.Context(), cfg)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(t.Context()) })
	return conn
}

// A view reads as PostgreSQL types, over the simple and the extended protocol.
func TestPgxQueryView(t *testing.T) {
	addr := startServer(t, testLake(t), pgwire.Config{})
	for name, mode := range map[string]pgx.QueryExecMode{
		"extended": pgx.QueryExecModeCacheStatement,
		"simple":   pgx.QueryExecModeSimpleProtocol,
	} {
		t.Run(name, func(t *testing.T) {
			conn := connect(t, addr, mode)
			rows, err := conn.Query(t.Context(), "SELECT day, events, revenue, label, even, updated_at, tags, ratio FROM views.kpis ORDER BY day")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for rows.Next() {
				var (
					day       time.Time
					events    int64
					revenue   string
					label     string
					even      bool
					updatedAt time.Time
					tags      []int64
					ratio     float64
				)
				if err := rows.Scan(&day, &events, &revenue, &label, &even, &updatedAt, &tags, &ratio); err != nil {
					t.Fatal(err)
				}
				got = append(got, fmtRow(day.Format(time.DateOnly), events, revenue, label, even, updatedAt.UTC().Format(time.RFC3339), tags, ratio))
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			want := []string{
				"2026-11-01 0 0.00 shop 0 true 2026-11-01T12:00:00Z [0 1] 0",
				"2026-11-02 10 1.25 shop 1 false 2026-11-01T13:00:00Z [1 2] 0.25",
				"2026-11-03 20 2.50 shop 2 true 2026-11-01T14:00:00Z [2 3] 0.5",
			}
			if !equalLines(got, want) {
				t.Errorf("got rows\n%v\nwant\n%v", got, want)
			}
			var oids []uint32
			for _, f := range rows.FieldDescriptions() {
				oids = append(oids, f.DataTypeOID)
			}
			// date, int8, numeric, text, bool, timestamptz, json, float8
			wantOIDs := []uint32{1082, 20, 1700, 25, 16, 1184, 114, 701}
			if !equalOIDs(oids, wantOIDs) {
				t.Errorf("got type OIDs %v, want %v", oids, wantOIDs)
			}
		})
	}
}

// A query outside the user's reads, a write and a wrong password are refused, and
// SQL DuckDB cannot run fails,, each with its SQLSTATE and a message that says why.
func TestPgxRefusals(t *testing.T) {
	addr := startServer(t, testLake(t), pgwire.Config{})
	conn := connect(t, addr, pgx.QueryExecModeSimpleProtocol)
	for _, tc := range []struct {
		sql, code, message string
	}{
		{"SELECT user_id FROM silver.events", "42501", "permission denied for table silver.events: this user reads only views.kpis, gold.daily"},
		{"SELECT k.day FROM views.kpis k JOIN silver.events e ON true", "42501", "permission denied for table silver.events: this user reads only views.kpis, gold.daily"},
		{"CREATE TABLE x AS SELECT 1", "25006", "read-only: refused: only queries run here"},
		{"COPY (SELECT 1) TO '/tmp/x.csv'", "25006", "read-only: refused: only queries run here"},
		{"INSERT INTO views.kpis SELECT * FROM views.kpis", "25006", "read-only: refused: only queries run here"},
		{"SELEC 1", "42601", "parse SQL: syntax error at or near"},
		{"SELECT nope FROM views.kpis", "42703", "Binder Error: Referenced column \"nope\" not found"},
	} {
		_, err := conn.Exec(t.Context(), tc.sql)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) {
			t.Errorf("%s: got error %v, want a PostgreSQL error", tc.sql, err)
			continue
		}
		if pgErr.Code != tc.code || !hasPrefix(pgErr.Message, tc.message) {
			t.Errorf("%s: got %s %q, want %s %q...", tc.sql, pgErr.Code, pgErr.Message, tc.code, tc.message)
		}
	}
	// The connection still serves after the refusals.
	var n int64
	if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM gold.daily").Scan(&n); err != nil || n != 1 {
		t.Errorf("after the refusals: got %d, %v; want 1 row", n, err)
	}

	var pgErr *pgconn.PgError
	_, err := pgx.Connect(t.Context(), connString(addr, dashboardUser, "wrong"))
	if !errors.As(err, &pgErr) || pgErr.Code != "28P01" {
		t.Errorf("wrong password: got %v, want SQLSTATE 28P01", err)
	}
	_, err = pgx.Connect(t.Context(), connString(addr, "nobody", dashboardPassword))
	if !errors.As(err, &pgErr) || pgErr.Code != "28P01" {
		t.Errorf("unknown user: got %v, want SQLSTATE 28P01", err)
	}
}

// Parameters are bound as literals: typed by their use, and never more than a value,
// whatever their text.
func TestPgxParameters(t *testing.T) {
	addr := startServer(t, testLake(t), pgwire.Config{})
	conn := connect(t, addr, pgx.QueryExecModeCacheStatement)
	rows, err := conn.Query(t.Context(), "SELECT label FROM views.kpis WHERE events > $1 AND day >= $2 AND label <> $3 ORDER BY day",
		5, time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC), "x' OR true --")
	if err != nil {
		t.Fatal(err)
	}
	labels, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"shop 1", "shop 2"}; !equalLines(labels, want) {
		t.Errorf("got %v, want %v", labels, want)
	}
	var echoed string
	const attack = "'; SELECT user_id FROM silver.events; --"
	if err := conn.QueryRow(t.Context(), "SELECT $1::text AS v", attack).Scan(&echoed); err != nil || echoed != attack {
		t.Errorf("got %q, %v; want the parameter's text back", echoed, err)
	}
}

// PostgreSQL's functions that BI tools call answer as PostgreSQL does.
func TestPostgresFunctions(t *testing.T) {
	addr := startServer(t, testLake(t), pgwire.Config{})
	conn := connect(t, addr, pgx.QueryExecModeSimpleProtocol)
	for _, tc := range []struct{ expr, want string }{
		{`format('%I.%I|%L|%%|%s', 'Views', 'kpis', 'it''s', 'x')`, `"Views".kpis|'it''s'|%|x`},
		{`format('%L', NULL)`, `NULL`},
		{`format('{}-{}', 1, 2)`, `1-2`}, // DuckDB's format still
		{`CAST(parse_ident('views."My Kpis"') AS TEXT)`, `[views, My Kpis]`},
		{`quote_ident('kpis') || ' ' || quote_ident('My"Kpis')`, `kpis "My""Kpis"`},
		{`CAST(has_table_privilege('views.kpis', 'SELECT') AS TEXT) || ' ' || CAST(has_table_privilege(current_user, 'views.kpis', 'INSERT, UPDATE') AS TEXT)`, `true false`},
		{`coalesce(current_schema(), 'NULL')`, `NULL`},
		{`CAST(CAST(CAST(format('%I.%I', 'views', 'kpis') AS regclass) AS oid) = (SELECT oid FROM pg_class WHERE relname = 'kpis') AS TEXT)`, `true`},
		{`(SELECT string_agg(CAST(i AS TEXT), ',') FROM generate_series(1, 3) AS i)`, `1,2,3`},
	} {
		var got string
		if err := conn.QueryRow(t.Context(), "SELECT "+tc.expr).Scan(&got); err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s = %q, want %q", tc.expr, got, tc.want)
		}
	}
	// A name that is no relation of the user's is an error, as in PostgreSQL.
	var oid int64
	err := conn.QueryRow(t.Context(), `SELECT CAST(CAST('silver.events' AS regclass) AS oid)`).Scan(&oid)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "42P01" || !strings.Contains(pgErr.Message, `relation "silver.events" does not exist`) {
		t.Errorf("regclass of silver.events: %v, want 42P01 relation does not exist", err)
	}
}
