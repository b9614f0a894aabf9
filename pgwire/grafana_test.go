package pgwire_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/lakectl/lakectl/pgwire"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata")

// Grafana's PostgreSQL data source sends its own SQL (testdata/grafana/*.sql, each
// file's leading comment saying where in Grafana's source its text was read) through
// pgx, whose default is the extended protocol with cached statements, as Grafana's
// backend does. Each answers with the dashboard user's tables alone: each result,
// column names and type OIDs included, is its .out file. Grafana's "Save & test" is
// pgx's Ping.
func TestGrafanaQueries(t *testing.T) {
	addr := startServer(t, testLake(t), pgwire.Config{})
	conn := connect(t, addr, pgx.QueryExecModeCacheStatement)
	if err := conn.Ping(t.Context()); err != nil {
		t.Fatalf("ping: %v", err)
	}
	files, err := filepath.Glob("testdata/grafana/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no queries in testdata/grafana: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".sql")
		t.Run(name, func(t *testing.T) {
			text, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			got := runText(t, conn, withoutHeader(string(text)))
			checkGolden(t, strings.TrimSuffix(file, ".sql")+".out", got)
		})
	}
}

// withoutHeader is a query file's text without the comment lines that start it:
// the query as the client sends it.
func withoutHeader(text string) string {
	for strings.HasPrefix(text, "--") {
		_, text, _ = strings.Cut(text, "\n")
	}
	return text
}

// runText runs query and writes its result as text: a line of column names with
// their type OIDs, then a line per row, values tab-separated, NULL for null.
func runText(t *testing.T, conn *pgx.Conn, query string) string {
	t.Helper()
	rows, err := conn.Query(t.Context(), query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	var head []string
	for _, f := range rows.FieldDescriptions() {
		head = append(head, fmt.Sprintf("%s:%d", f.Name, f.DataTypeOID))
	}
	b.WriteString(strings.Join(head, "\t") + "\n")
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		var cells []string
		for _, v := range vals {
			if n, ok := v.(pgtype.Numeric); ok {
				v, _ = n.Value() // its text
			}
			if v == nil {
				cells = append(cells, "NULL")
			} else {
				cells = append(cells, fmt.Sprint(v))
			}
		}
		b.WriteString(strings.Join(cells, "\t") + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// checkGolden compares got with the golden file, or writes it with -update.
func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("%s: got\n%s\nwant\n%s", path, got, want)
	}
}
