package engine

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/lakectl/lakectl/engine/sqlfrag"
	"github.com/lakectl/lakectl/lake"
)

func openSession(t testing.TB) *Session {
	t.Helper()
	s, err := Open(t.Context(), Config{MemoryLimit: "1GiB", Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func TestOpenAppliesSettingsToEveryQuery(t *testing.T) {
	ctx := t.Context()
	s := openSession(t)
	// Many queries in a row, and one per goroutine: all must see the session's settings,
	// which they would not on a second pooled connection.
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			for range 5 {
				var tz, mem string
				var threads int64
				err := s.QueryRowContext(ctx, "SELECT current_setting('TimeZone'), current_setting('memory_limit'), current_setting('threads')").Scan(&tz, &mem, &threads)
				if err == nil && (tz != "UTC" || mem != "1.0 GiB" || threads != 2) {
					err = fmt.Errorf("settings TimeZone=%s memory_limit=%s threads=%d, want UTC, 1.0 GiB, 2", tz, mem, threads)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	// A temporary view made by one statement is seen by the next.
	if _, err := s.ExecContext(ctx, "CREATE TEMP VIEW one AS SELECT 1 AS x"); err != nil {
		t.Fatal(err)
	}
	var x int
	if err := s.QueryRowContext(ctx, "SELECT x FROM one").Scan(&x); err != nil || x != 1 {
		t.Fatalf("temp view on the next query: x=%d err=%v", x, err)
	}
}

func TestDuckType(t *testing.T) {
	for _, tc := range []struct {
		delta lake.DataType
		want  string
	}{
		{lake.Primitive("long"), "BIGINT"},
		{lake.Primitive("integer"), "INTEGER"},
		{lake.Primitive("short"), "SMALLINT"},
		{lake.Primitive("byte"), "TINYINT"},
		{lake.Primitive("float"), "FLOAT"},
		{lake.Primitive("double"), "DOUBLE"},
		{lake.Primitive("boolean"), "BOOLEAN"},
		{lake.Primitive("string"), "VARCHAR"},
		{lake.Primitive("binary"), "BLOB"},
		{lake.Primitive("date"), "DATE"},
		{lake.Primitive("timestamp"), "TIMESTAMPTZ"},
		{lake.Decimal(18, 2), "DECIMAL(18,2)"},
		{lake.ArrayOf(lake.Primitive("string"), true), "VARCHAR[]"},
		{lake.MapOf(lake.Primitive("string"), lake.Primitive("long"), true), "MAP(VARCHAR, BIGINT)"},
		{lake.StructOf(lake.NewField(`a"b`, lake.Primitive("integer"), true), lake.NewField("c", lake.ArrayOf(lake.Primitive("double"), true), true)),
			`STRUCT("a""b" INTEGER, "c" DOUBLE[])`},
	} {
		got, err := DuckType(tc.delta)
		if err != nil || got.String() != tc.want {
			t.Errorf("DuckType(%s) = %q, %v; want %q", tc.delta, got, err, tc.want)
		}
	}
	if _, err := DuckType(lake.Primitive("timestamp_ntz")); err == nil {
		t.Error("timestamp_ntz mapped, want an unsupported-feature error")
	}
}

// Every DuckDB type that DuckType produces maps back to the same Delta type, so a table
// created from a query's schema reads back with the query's types.
func TestDeltaTypeInvertsDuckType(t *testing.T) {
	ctx := t.Context()
	s := openSession(t)
	types := []lake.DataType{
		lake.Primitive("long"), lake.Primitive("integer"), lake.Primitive("short"),
		lake.Primitive("byte"), lake.Primitive("float"), lake.Primitive("double"),
		lake.Primitive("boolean"), lake.Primitive("string"), lake.Primitive("binary"),
		lake.Primitive("date"), lake.Primitive("timestamp"), lake.Decimal(38, 9),
		lake.ArrayOf(lake.Primitive("long"), true),
		lake.MapOf(lake.Primitive("string"), lake.ArrayOf(lake.Primitive("date"), true), true),
		lake.StructOf(lake.NewField("x y", lake.Primitive("long"), true), lake.NewField("z", lake.Decimal(5, 1), true)),
	}
	for _, dt := range types {
		duck, err := DuckType(dt)
		if err != nil {
			t.Fatal(err)
		}
		// Ask DuckDB how it names the type, as WriteFiles and QuerySchema see it.
		schema, err := s.QuerySchema(ctx, sqlfrag.Fmt("SELECT CAST(NULL AS %s) AS c", duck).String())
		if err != nil {
			t.Fatalf("%s: %v", dt, err)
		}
		if got := schema.Fields[0].DataType.String(); got != dt.String() {
			t.Errorf("DeltaType(DuckDB's %s) = %s, want %s", duck, got, dt)
		}
	}
}

func TestQuotingKeepsNamesAndValuesIntact(t *testing.T) {
	ctx := t.Context()
	s := openSession(t)
	name := `we"ird; DROP TABLE x; --`
	value := `it's; '); SELECT 1; --`
	q := sqlfrag.Fmt("SELECT %s AS %s", sqlfrag.Str(value), sqlfrag.Ident(name))
	rows, err := s.QueryContext(ctx, q.String())
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	if len(cols) != 1 || cols[0] != name {
		t.Fatalf("columns = %q, want [%q]", cols, name)
	}
	rows.Next()
	var got string
	if err := rows.Scan(&got); err != nil || got != value {
		t.Fatalf("value = %q, %v; want %q", got, err, value)
	}
}

// queryStrings runs q and returns each row as its columns' text (DuckDB's), sorted, so
// result sets compare as sets.
func queryStrings(t testing.TB, s *Session, q string, args ...any) []string {
	t.Helper()
	rows, err := s.QueryContext(t.Context(), "SELECT CAST(COLUMNS(*) AS VARCHAR) FROM ("+q+")", args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = "<null>"
			if v.Valid {
				parts[i] = v.String
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// columnTypes returns the view's column names and DuckDB types, in order.
func columnTypes(t testing.TB, s *Session, view string) []string {
	t.Helper()
	rows, err := s.QueryContext(context.WithoutCancel(t.Context()), "DESCRIBE "+view)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name, typ string
		var null, key, def, extra any
		if err := rows.Scan(&name, &typ, &null, &key, &def, &extra); err != nil {
			t.Fatal(err)
		}
		out = append(out, name+" "+typ)
	}
	return out
}
