package engine

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/cache"
	"github.com/lakectl/lakectl/lake/mem"
)

// pruneRows are one chunk of the test table: a day partition, ids, timestamps,
// decimals, strings and doubles that differ from file to file, and nulls.
const pruneRows = `
SELECT DATE '2026-11-01' + CAST($1 AS INTEGER) AS day,
       $2 * 100 + i AS id,
       TIMESTAMP '2026-11-01 00:00:00' + (CAST($1 AS INTEGER) * 24 + i % 24) * INTERVAL 1 HOUR + INTERVAL 1 MILLISECOND * $2 AS ts,
       CAST(($2 * 100 + i) / 8 AS DECIMAL(18,2)) AS amount,
       CASE WHEN i % 7 = 0 THEN NULL ELSE 'n' || lpad(CAST($2 * 100 + i AS VARCHAR), 5, '0') END AS name,
       CASE WHEN i = 3 THEN 'NaN'::DOUBLE ELSE ($2 * 100 + i) / 3 END AS score,
       CAST($2 * 100 + i AS VARCHAR) AS code
FROM range(40) AS r(i)`

// newPruneTable writes a table of 10 days × 3 files, a file with a null day, and a
// file without statistics, in mem, and returns it with its snapshot.
func newPruneTable(t *testing.T, s *Session) (*lake.Table, *lake.Snapshot) {
	t.Helper()
	ctx := t.Context()
	store := mem.New()
	parts := []string{"day"}
	table := createTable(t, s, store, "events", parts, pruneRows, 0, 0)
	chunk := 0
	for day := range 10 {
		for range 3 {
			appendQuery(t, s, table, parts, pruneRows, day, chunk)
			chunk++
		}
	}
	appendQuery(t, s, table, parts, "SELECT CAST(NULL AS DATE) AS day, * EXCLUDE (day) FROM ("+pruneRows+")", 4, chunk)
	chunk++
	// A file whose add has no stats: pruning must keep it whatever the query.
	snap, err := table.Latest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	adds, err := s.WriteFiles(ctx, table, parts, pruneRows, 5, chunk)
	if err != nil {
		t.Fatal(err)
	}
	for i := range adds {
		adds[i].Stats = ""
	}
	tx := table.Begin(snap)
	tx.Add(adds...)
	if _, err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	snap, err = table.Latest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return table, snap
}

// TestPruneNeverChangesAResult: over a table of many files, every query gives the same
// rows with its files pruned as over all of them; those that can prune do.
func TestPruneNeverChangesAResult(t *testing.T) {
	ctx := t.Context()
	s := openSession(t)
	table, snap := newPruneTable(t, s)
	c := cache.New(table.Store(), t.TempDir(), 0)
	if err := s.RegisterTable(ctx, "whole", "events", snap, TableFiles(table, c)); err != nil {
		t.Fatal(err)
	}
	name := TableName{Schema: "t", Name: "events"}
	for _, tt := range []struct {
		sql   string
		prune bool // whether some file must be pruned
	}{
		// Partition column.
		{"SELECT * FROM t.events WHERE day = DATE '2026-11-03'", true},
		{"SELECT * FROM t.events WHERE day = '2026-11-03'", true},
		{"SELECT * FROM t.events WHERE '2026-11-03' = day", true},
		{"SELECT * FROM t.events WHERE day IN ('2026-11-02', '2026-11-09')", true},
		{"SELECT * FROM t.events WHERE day BETWEEN '2026-11-02' AND '2026-11-04'", true},
		{"SELECT * FROM t.events WHERE day < '2026-11-02'", true},
		{"SELECT * FROM t.events WHERE day <= '2026-11-02'", true},
		{"SELECT * FROM t.events WHERE day > '2026-11-08'", true},
		{"SELECT * FROM t.events WHERE day >= '2026-11-08'", true},
		{"SELECT * FROM t.events WHERE day IS NULL", false},
		{"SELECT * FROM t.events WHERE day = '2026-11-03' OR id = 5", true},
		{"SELECT * FROM t.events WHERE day = '2026-11-03' OR score > 5", false},
		{"SELECT * FROM t.events WHERE NOT day = '2026-11-03'", true},
		{"SELECT * FROM t.events WHERE day <> '2026-11-03'", true},
		{"SELECT * FROM t.events WHERE NOT (day < '2026-11-03' OR id > 700)", true},
		{"SELECT * FROM t.events WHERE day NOT IN ('2026-11-01', '2026-11-02') AND day NOT BETWEEN '2026-11-05' AND '2026-11-10'", true},
		{"SELECT * FROM t.events WHERE day = current_date", false},
		// Columns with statistics.
		{"SELECT * FROM t.events WHERE id = 1234", true},
		{"SELECT * FROM t.events WHERE id = 1234.5", true},
		{"SELECT * FROM t.events WHERE id > 2950.5", true},
		{"SELECT * FROM t.events WHERE id < -1", true},
		{"SELECT * FROM t.events WHERE id >= 3000", true},
		{"SELECT * FROM t.events WHERE id <= 99", true},
		{"SELECT * FROM t.events WHERE id IN (5, 2210, 99999)", true},
		{"SELECT * FROM t.events WHERE id BETWEEN 400 AND 650", true},
		{"SELECT * FROM t.events WHERE ts = TIMESTAMP '2026-11-04 05:00:00.012'", true},
		{"SELECT * FROM t.events WHERE ts >= '2026-11-09 23:00:00.029'", true},
		{"SELECT * FROM t.events WHERE ts < TIMESTAMPTZ '2026-11-01 00:00:00.001+00'", true},
		{"SELECT * FROM t.events WHERE amount = 100.5", true},
		{"SELECT * FROM t.events WHERE amount > 360", true},
		{"SELECT * FROM t.events WHERE name = 'n01207'", true},
		{"SELECT * FROM t.events WHERE name >= 'n03'", true},
		{"SELECT * FROM t.events WHERE name < 'n001'", true},
		{"SELECT * FROM t.events WHERE score > 900", false}, // a double: NaN is outside its stats
		{"SELECT * FROM t.events WHERE code = '25'", true},
		{"SELECT * FROM t.events WHERE code = 25", false}, // compared as numbers, '25' may sit between '1' and '3'
		{"SELECT * FROM t.events WHERE code::INTEGER = 25", false},
		{"SELECT * FROM t.events WHERE code = CAST(25 AS BIGINT)", false},
		{"SELECT * FROM t.events WHERE day = CAST('2026-11-03' AS VARCHAR)", false},
		{"SELECT * FROM t.events WHERE id = '1234'", true},
		{"SELECT * FROM t.events WHERE score = 'NaN'", false},
		{"SELECT * FROM t.events WHERE id = 1234 AND day = '2026-11-04'", true},
		{"SELECT * FROM t.events WHERE id + 0 = 1234", false},
		{"SELECT count(*), sum(amount) FROM t.events WHERE day >= '2026-11-05' AND id < 2000", true},
		{"SELECT id AS k FROM t.events WHERE k = 5", false}, // an alias, not a column
		{"SELECT id AS day FROM t.events WHERE day = '2026-11-02'", true},
		// Joins, subqueries, several scans.
		{"SELECT a.id, b.id FROM t.events a JOIN t.events b ON a.id = b.id + 1 WHERE a.day = '2026-11-02' AND b.id < 500", true},
		{"SELECT a.id, b.id FROM t.events a LEFT JOIN t.events b ON a.id = b.id WHERE b.day = '2026-11-02' AND a.id < 300", true},
		{"SELECT a.id, b.id FROM t.events a LEFT JOIN t.events b ON a.id = b.id WHERE (b.day <> '2026-11-02' OR NOT b.id > 100) AND a.id < 300", true},
		{"SELECT a.id, b.id FROM t.events a LEFT JOIN t.events b ON a.id = b.id WHERE a.day = '2026-11-01' OR b.day = '2026-11-02'", false},
		{"SELECT a.id, b.day FROM t.events a LEFT JOIN t.events b ON a.id = b.id AND b.day = '2026-11-02' WHERE a.id < 300", false},
		{"SELECT a.id, b.id FROM t.events a FULL JOIN t.events b ON a.id = b.id WHERE a.day = '2026-11-02'", false},
		{"SELECT a.id, b.id FROM t.events a FULL JOIN t.events b ON a.id = b.id + 1 WHERE a.day = '2026-11-02' AND b.day >= '2026-11-02' AND b.id < 410", true},
		{"SELECT a.id, b.id FROM t.events a RIGHT JOIN t.events b ON a.id = b.id WHERE a.id BETWEEN 150 AND 420 AND b.day <= '2026-11-03'", true},
		{"SELECT count(*) FROM t.events a, t.events b WHERE a.day = '2026-11-02' AND b.day = a.day AND b.id IN (250, 251)", true},
		{"SELECT * FROM t.events a ASOF JOIN t.events b ON a.id >= b.id WHERE b.day = '2026-11-02'", false},
		{"SELECT * FROM t.events a POSITIONAL JOIN t.events b WHERE b.day = '2026-11-02'", false},
		{"SELECT id FROM t.events WHERE day = '2026-11-02' UNION ALL SELECT id FROM t.events WHERE day = '2026-11-07'", true},
		{"SELECT id FROM t.events WHERE day = '2026-11-02' UNION ALL SELECT id FROM t.events", false},
		{"WITH d AS (SELECT * FROM t.events WHERE day = '2026-11-06') SELECT count(*) FROM d WHERE id > 1", true},
		{"SELECT * FROM (SELECT * FROM t.events) WHERE day = '2026-11-06'", false},
		{"SELECT * FROM t.events WHERE id IN (SELECT id FROM t.events WHERE day = '2026-11-06')", false},
		{"SELECT * FROM t.events e WHERE day = '2026-11-06' AND EXISTS (SELECT 1 FROM t.events f WHERE f.id = e.id AND e.day = '2026-11-06')", false},
		{"SELECT * FROM t.events WHERE day = '2026-11-06' USING SAMPLE 100 PERCENT (bernoulli)", false},
		{"SELECT * FROM t.events TABLESAMPLE 100 PERCENT (bernoulli) WHERE day = '2026-11-06'", false},
	} {
		t.Run(tt.sql, func(t *testing.T) {
			q, err := s.ParseUserSQL(ctx, tt.sql)
			if err != nil {
				t.Fatal(err)
			}
			kept, rep, err := s.Prune(ctx, q, name, snap, snap.Files())
			if err != nil {
				t.Fatal(err)
			}
			if rep.Files != snap.NumFiles() || rep.KeptFiles != len(kept) {
				t.Errorf("report %+v for %d files, %d kept", rep, snap.NumFiles(), len(kept))
			}
			if pruned := len(kept) < snap.NumFiles(); pruned != tt.prune {
				t.Errorf("kept %d of %d files; want pruning %v", len(kept), snap.NumFiles(), tt.prune)
			}
			if err := s.RegisterFiles(ctx, "t", "events", snap, kept, TableFiles(table, c)); err != nil {
				t.Fatal(err)
			}
			got := queryStrings(t, s, tt.sql)
			all := queryStrings(t, s, replaceTable(tt.sql))
			if !slices.Equal(got, all) {
				t.Errorf("pruned to %d files: %d rows, over all files: %d rows\n%q\n%q", len(kept), len(got), len(all), first(got), first(all))
			}
		})
	}
}

// replaceTable points the SQL at the view over every file.
func replaceTable(sql string) string {
	return strings.ReplaceAll(sql, "t.events", "whole.events")
}

// TestPruneKeepsEveryFileWithAMatch: for each condition, every file in which DuckDB
// itself finds a row that passes it (each file read alone, as a view of its own) is
// among the files Prune keeps; the conditions that can prune do.
func TestPruneKeepsEveryFileWithAMatch(t *testing.T) {
	s := openSession(t)
	table, snap := newPruneTable(t, s)
	checkKeptFiles(t, s, table, snap, []pruneCase{
		// =, <>, <, <=, >, >=, IN, NOT IN, BETWEEN, NOT BETWEEN on a DATE partition.
		{"day = '2026-11-03'", true},
		{"day <> '2026-11-03'", true},
		{"day < '2026-11-03'", true},
		{"day <= '2026-11-03'", true},
		{"day > '2026-11-08'", true},
		{"day >= '2026-11-08'", true},
		{"day IN ('2026-11-02', '2026-11-09')", true},
		{"day NOT IN ('2026-11-02', '2026-11-09')", true},
		{"day BETWEEN '2026-11-02' AND '2026-11-04'", true},
		{"day NOT BETWEEN '2026-11-02' AND '2026-11-09'", true},
		{"day = '2026-11-3'", false}, // DuckDB reads it; pruning does not
		// Dates against timestamps: the date is its midnight.
		{"day >= TIMESTAMP '2026-11-03 12:00:00'", true},
		{"day < TIMESTAMP '2026-11-03 12:00:00'", true},
		{"day > TIMESTAMPTZ '2026-11-03 00:00:00+05'", true},
		{"day = TIMESTAMPTZ '2026-11-03 02:00:00+02:00'", true},
		// Integers with statistics.
		{"id = 1234", true},
		{"id <> 1234", false},
		{"id < 150", true},
		{"id <= 100", true},
		{"id > 2950.5", true},
		{"id >= 3100", true},
		{"id IN (5, 2210, 99999)", true},
		{"id NOT IN (5, 6)", false},
		{"id BETWEEN 400 AND 650", true},
		{"id NOT BETWEEN 100 AND 3200", true},
		{"id = '1234'", true},
		{"id = '1234.5'", false}, // DuckDB casts it to 1235
		{"id = CAST(1234.5 AS BIGINT)", false},
		{"id = CAST(1234 AS BIGINT)", true},
		{"id = 1234.5", true},
		// Timestamps.
		{"ts = '2026-11-04 05:00:00.009'", true},
		{"ts = '2026-11-04T05:00:00.009Z'", true},
		{"ts = TIMESTAMPTZ '2026-11-04 10:00:00.009+05'", true},
		{"ts >= '2026-11-09 23:00:00.029'", true},
		{"ts < TIMESTAMPTZ '2026-11-01 00:00:00.001+00'", true},
		{"ts > DATE '2026-11-09'", true},
		{"ts < DATE '2026-11-02'", true},
		{"ts BETWEEN '2026-11-02' AND '2026-11-02 23:59:59'", true},
		{"ts NOT BETWEEN '2026-11-01' AND '2026-11-11'", true}, // the first file's minimum, widened
		// Decimals.
		{"amount > 360", true},
		{"amount <= 12.25", true},
		{"amount BETWEEN 100 AND 101.5", true},
		{"amount = '100.63'", true},
		{"amount = '100.625'", false}, // DuckDB rounds it to the column's scale: 100.63
		{"amount IN (12.5, '99.50')", true},
		{"amount >= CAST(380 AS INTEGER)", true},
		// Strings, with NULLs.
		{"name = 'n01207'", true},
		{"name >= 'n03'", true},
		{"name < 'n001'", true},
		{"name BETWEEN 'n00100' AND 'n00139'", true},
		{"name <> 'n00001'", false},
		{"code = '25'", true},
		{"code = CAST('25' AS VARCHAR)", true},
		{"code > '9'", true},
		{"code NOT IN ('0')", false},
		{"code = 25", false}, // compared as numbers: '25' may sit between '1' and '3'
		// NULLs.
		{"day IS NULL", false},
		{"day IS NOT NULL AND day = '2026-11-02'", true},
		{"name = NULL", false},
		{"id IN (5, NULL)", false},
		{"NOT (id IN (5, NULL))", false},
		{"name IS NULL OR day = '2026-11-02'", false},
		// AND, OR, NOT.
		{"day = '2026-11-03' OR id = 5", true},
		{"(day = '2026-11-03' OR day = '2026-11-05') AND id > 1000", true},
		{"day = '2026-11-03' OR score > 5", false},
		{"NOT (day = '2026-11-03' OR day >= '2026-11-05')", true},
		{"NOT (day = '2026-11-03' AND id = 5)", false},
		{"NOT id > 500", true},
		{"NOT NOT day = '2026-11-04'", true},
		{"NOT (day BETWEEN '2026-11-02' AND '2026-11-09' OR id < 100)", true},
		// Doubles: NaN is outside their statistics.
		{"score > 900", false},
		{"score = 'NaN'", false},
	})
}

// pruneCase is a condition on t.events and whether it must prune some file.
type pruneCase struct {
	where string
	prune bool
}

// checkKeptFiles checks, for each case, that Prune keeps every file of snap (of
// table, as t.events) in which DuckDB finds a row that passes the condition, reading
// each file alone as a view of its own, and that it prunes some file if it must.
func checkKeptFiles(t *testing.T, s *Session, table *lake.Table, snap *lake.Snapshot, cases []pruneCase) {
	t.Helper()
	ctx := t.Context()
	c := cache.New(table.Store(), t.TempDir(), 0)
	files := snap.Files()
	var each []string
	for i, a := range files {
		if err := s.RegisterFiles(ctx, "files", fmt.Sprint("f", i), snap, []lake.Add{a}, TableFiles(table, c)); err != nil {
			t.Fatal(err)
		}
		each = append(each, fmt.Sprintf("SELECT %d AS file, * FROM files.f%d", i, i))
	}
	byFile := "(" + strings.Join(each, " UNION ALL ") + ")"
	name := TableName{Schema: "t", Name: "events"}
	for _, tt := range cases {
		t.Run(tt.where, func(t *testing.T) {
			q, err := s.ParseUserSQL(ctx, "SELECT * FROM t.events WHERE "+tt.where)
			if err != nil {
				t.Fatal(err)
			}
			kept, _, err := s.Prune(ctx, q, name, snap, files)
			if err != nil {
				t.Fatal(err)
			}
			keep := map[string]bool{}
			for _, a := range kept {
				keep[a.Path] = true
			}
			var matching []string
			for _, f := range queryStrings(t, s, "SELECT DISTINCT file FROM "+byFile+" WHERE "+tt.where+" ORDER BY file") {
				var i int
				if _, err := fmt.Sscan(f, &i); err != nil {
					t.Fatal(err)
				}
				matching = append(matching, f)
				if !keep[files[i].Path] {
					t.Errorf("file %d holds rows that pass, and was pruned", i)
				}
			}
			if pruned := len(kept) < len(files); pruned != tt.prune {
				t.Errorf("kept %d of %d files (%d hold rows that pass); want pruning %v", len(kept), len(files), len(matching), tt.prune)
			}
		})
	}
}

// TestPrunePartitionsOfEveryType: partition values of strings, integers, decimals
// and timestamps, null ones among them, prune as DuckDB reads them in the view.
func TestPrunePartitionsOfEveryType(t *testing.T) {
	s := openSession(t)
	store := mem.New()
	parts := []string{"region", "hour", "price", "ts"}
	rows := `SELECT CASE WHEN $1 = 5 THEN NULL ELSE 'r' || ($1 % 3) END AS region,
	               CAST($1 % 4 AS INTEGER) AS hour,
	               CAST($1 * 1.25 AS DECIMAL(9,2)) AS price,
	               CASE WHEN $1 = 6 THEN NULL ELSE TIMESTAMPTZ '2026-11-01 00:00:00+00' + $1 * INTERVAL 90 MINUTE + INTERVAL 250 MICROSECOND END AS ts,
	               i AS id
	        FROM range(3) AS r(i)`
	table := createTable(t, s, store, "events", parts, rows, 0)
	for i := range 8 {
		appendQuery(t, s, table, parts, rows, i)
	}
	snap, err := table.Latest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	checkKeptFiles(t, s, table, snap, []pruneCase{
		{"region = 'r1'", true},
		{"region <> 'r1'", true},
		{"region > 'r1'", true},
		{"region IN ('r0', 'r2')", true},
		{"region NOT IN ('r0', 'r2')", true},
		{"region IS NULL", false},
		{"hour = 2", true},
		{"hour = '2'", true},
		{"hour = '02'", true},
		{"hour BETWEEN 1 AND 2", true},
		{"hour NOT BETWEEN 1 AND 2", true},
		{"hour >= 2.5", true},
		{"price = 2.5", true},
		{"price = '2.50'", true},
		{"price > 5", true},
		{"price < '3.751'", false}, // DuckDB rounds it to the scale: 3.75
		{"ts = '2026-11-01 01:30:00.00025'", true},
		{"ts = TIMESTAMPTZ '2026-11-01 03:30:00.00025+02'", true},
		{"ts >= '2026-11-01 06:00:00 Europe/Paris'", false}, // a zone by name: not read
		{"ts > DATE '2026-11-01'", true},
		{"ts < '2026-11-01 03:00:00.00025'", true},
		{"NOT (region = 'r1' OR hour = 0)", true},
		{"region = 'r1' OR price > 8", true},
	})
}

// TestPruneReportNamesTheColumnsThatPrune: the report (what --explain prints) names
// the columns of the comparisons that pruning used, not those of a part it dropped.
func TestPruneReportNamesTheColumnsThatPrune(t *testing.T) {
	ctx := t.Context()
	s := openSession(t)
	_, snap := newPruneTable(t, s)
	for _, tt := range []struct {
		where   string
		columns []string
	}{
		{"day = '2026-11-03' AND (id = 5 OR score > 1)", []string{"day"}},
		{"day = '2026-11-03' OR id = 5", []string{"day", "id"}},
		{"NOT (name < 'n01' AND amount > 3)", []string{"amount", "name"}},
		{"score > 1", nil},
	} {
		q, err := s.ParseUserSQL(ctx, "SELECT * FROM t.events WHERE "+tt.where)
		if err != nil {
			t.Fatal(err)
		}
		_, rep, err := s.Prune(ctx, q, TableName{Schema: "t", Name: "events"}, snap, snap.Files())
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(rep.Columns, tt.columns) {
			t.Errorf("%s: report names %q, want %q", tt.where, rep.Columns, tt.columns)
		}
	}
}
