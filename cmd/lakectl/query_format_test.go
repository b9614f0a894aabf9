package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/engine/sqlfrag"
)

// formatCases are the values whose printing issue 8 found wrong, and the types around
// them: dates, times, decimals with their scale, NULL beside the empty string, text that
// csv must quote.
const formatCases = `SELECT * FROM (VALUES
	(1, DATE '2026-11-27', TIME '10:00:00.5', TIMESTAMP '2026-11-27 08:00:00', TIMESTAMPTZ '2026-11-27 08:00:00.123+00',
	 CAST(0.50 AS DECIMAL(18,2)), '', 1.5::DOUBLE, true, CAST('\x00a"' AS BLOB), INTERVAL '1 day 02:00:00',
	 TIMESTAMP_NS '2026-11-27 08:00:00.123456789', [DATE '2026-11-27', NULL], {'a': CAST(0.50 AS DECIMAL(18,2)), 'b c': 'x,y'}, MAP {'k': 1}, '3b6a2c06-2f4c-4a53-9b0b-8c2d0f8e1d7a'::UUID, 12345678901234567890::HUGEINT),
	(2, NULL, NULL, NULL, NULL, CAST(100000.00 AS DECIMAL(18,2)), NULL, 100.0::DOUBLE, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
	(3, DATE '0044-03-15', TIME '23:59:59', TIMESTAMP '2026-01-01 00:00:00.000001', TIMESTAMPTZ '2026-06-30 22:00:00-02',
	 CAST(-1.05 AS DECIMAL(18,2)), 'a,"b"' || chr(10) || 'c', 0.0001::DOUBLE, false, CAST('' AS BLOB), INTERVAL '-3 hours',
	 TIMESTAMP_NS '2026-11-27 08:00:00', [], {'a': NULL, 'b c': ''}, MAP {}, NULL, -1::HUGEINT),
	(4, DATE '2026-02-28', TIME '00:00:00', TIMESTAMP '2026-11-27 08:00:00.5', TIMESTAMPTZ '2026-11-27 08:00:00+00',
	 CAST(0 AS DECIMAL(18,2)), ' lead', 1e16::DOUBLE, true, CAST('x' AS BLOB), INTERVAL '14 months 3 days',
	 TIMESTAMP_NS '1970-01-01 00:00:00.5', [DATE '2026-01-01'], {'a': 1, 'b c': 'plain'}, MAP {'a b': 2}, '00000000-0000-0000-0000-000000000001'::UUID, 0::HUGEINT)
) AS t(id, "day", at_time, at_ts, at_tz, amount, "text, quoted", ratio, flag, raw, span, ns, days, pair, kv, uid, big)`

// TestQueryOutputAsDuckDBPrints: each format prints what DuckDB itself prints for the
// same result. table: every value as CAST(value AS VARCHAR); csv: byte for byte what
// DuckDB's COPY ... TO (FORMAT csv) writes; json: what COPY ... TO (FORMAT json) writes.
func TestQueryOutputAsDuckDBPrints(t *testing.T) {
	ctx := t.Context()
	sess, err := engine.Open(ctx, engine.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	dir := t.TempDir()
	print := func(format string) string {
		t.Helper()
		rows, err := sess.QueryContext(ctx, formatCases+" ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		if err := printRows(rows, format, &b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	duckFile := func(format string) string {
		t.Helper()
		path := filepath.Join(dir, "duckdb."+format)
		if _, err := sess.ExecContext(ctx, "COPY ("+formatCases+" ORDER BY id) TO "+sqlfrag.Str(path).String()+" (FORMAT "+format+")"); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	if got, want := print("csv"), duckFile("csv"); got != want {
		t.Errorf("csv:\n%s\nDuckDB's CSV writer:\n%s", got, want)
	}
	if got, want := print("json"), duckFile("json"); !sameJSONLines(t, got, want) {
		t.Errorf("json:\n%s\nDuckDB's JSON writer:\n%s", got, want)
	}

	// table: each value as DuckDB casts it to VARCHAR.
	casts := scanAll(t, sess, "SELECT COLUMNS(*)::VARCHAR FROM ("+formatCases+") ORDER BY id")
	rows, err := sess.QueryContext(ctx, formatCases+" ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	types, err := rows.ColumnTypes()
	if err != nil {
		t.Fatal(err)
	}
	for r := 0; rows.Next(); r++ {
		vals := make([]any, len(types))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			want := casts[r][i]
			if (v == nil) != (want == nil) || v != nil && duckText(parseColType(types[i].DatabaseTypeName()), v) != *want {
				t.Errorf("row %d, column %d %s: %v prints %q, DuckDB casts it to %v", r, i, types[i].DatabaseTypeName(), v, duckText(parseColType(types[i].DatabaseTypeName()), v), strOrNil(want))
			}
		}
	}
	rows.Close()
}

func strOrNil(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

// scanAll returns every row of a query of VARCHAR columns.
func scanAll(t *testing.T, sess *engine.Session, q string) [][]*string {
	t.Helper()
	rows, err := sess.QueryContext(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]*string
	for rows.Next() {
		vals := make([]*string, len(cols))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, vals)
	}
	return out
}

// sameJSONLines compares two outputs of one JSON object per line by value, numbers
// by their digits (0.50 is not 0.5).
func sameJSONLines(t *testing.T, a, b string) bool {
	t.Helper()
	decode := func(s string) []any {
		var out []any
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		for dec.More() {
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("decode %q: %v", s, err)
			}
			out = append(out, v)
		}
		return out
	}
	return reflect.DeepEqual(decode(a), decode(b))
}

// TestQueryCSVRoundTrip: csv read back by DuckDB (empty string and NULL told apart
// with allow_quoted_nulls = false, as README says) gives the same rows, decimals and
// dates included.
func TestQueryCSVRoundTrip(t *testing.T) {
	ctx := t.Context()
	sess, err := engine.Open(ctx, engine.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	const q = `SELECT id, "day", at_ts, at_tz, amount, "text, quoted", flag FROM (` + formatCases + `) ORDER BY id`
	rows, err := sess.QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := printRows(rows, "csv", &out); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "out.csv")
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var diff int
	err = sess.QueryRowContext(ctx, `SELECT count(*) FROM ((`+q+`) EXCEPT ALL (SELECT * FROM read_csv(`+sqlfrag.Str(path).String()+`,
		header = true, allow_quoted_nulls = false,
		columns = {'id': 'INTEGER', 'day': 'DATE', 'at_ts': 'TIMESTAMP', 'at_tz': 'TIMESTAMPTZ', 'amount': 'DECIMAL(18,2)', 'text, quoted': 'VARCHAR', 'flag': 'BOOLEAN'})))`).Scan(&diff)
	if err != nil {
		t.Fatal(err)
	}
	if diff != 0 {
		t.Errorf("%d rows differ after a round trip through csv:\n%s", diff, out.String())
	}
}
