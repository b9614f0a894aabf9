package silver

import (
	"bufio"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/engine/sqlfrag"
	"github.com/lakectl/lakectl/pipeline"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/silver")

// TestGolden runs each case under testdata/silver in real DuckDB: the contract in
// lakectl.yaml compiled to SQL (golden query.sql) over the Bronze rows of
// bronze.jsonl and the reference CSV files, with every output row, valid or not,
// compared against result.csv.
func TestGolden(t *testing.T) {
	cases, err := filepath.Glob("../testdata/silver/*/lakectl.yaml")
	if err != nil || len(cases) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	db := openDuckDB(t)
	for _, file := range cases {
		dir := filepath.Dir(file)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			p, err := pipeline.Load(dir, pipeline.Overrides{})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Silver) != 1 {
				t.Fatalf("case declares %d silver tables, want 1", len(p.Silver))
			}
			c, err := Compile(p.Silver[0])
			if err != nil {
				t.Fatal(err)
			}
			loadBronze(t, db, filepath.Join(dir, "bronze.jsonl"))
			for _, r := range p.Reference {
				// A reference file with the table's validity columns is read as it is;
				// one without them as its first snapshot load stores it: every row valid
				// since ever, until further notice.
				mustExec(t, db, "CREATE OR REPLACE TABLE "+ident("ref_"+r.Name)+" AS SELECT * FROM read_csv(?, header = true)", p.Path(r.File))
				var versioned bool
				if err := db.QueryRow("SELECT count(*) > 0 FROM (DESCRIBE "+ident("ref_"+r.Name)+") WHERE column_name = ?", RefColValidFrom).Scan(&versioned); err != nil {
					t.Fatal(err)
				}
				if versioned {
					mustExec(t, db, "ALTER TABLE "+ident("ref_"+r.Name)+" ALTER "+ident(RefColValidFrom)+" TYPE TIMESTAMPTZ")
					mustExec(t, db, "ALTER TABLE "+ident("ref_"+r.Name)+" ALTER "+ident(RefColValidTo)+" TYPE TIMESTAMPTZ")
				} else {
					mustExec(t, db, "ALTER TABLE "+ident("ref_"+r.Name)+" ADD COLUMN "+ident(RefColValidFrom)+" TIMESTAMPTZ")
					mustExec(t, db, "ALTER TABLE "+ident("ref_"+r.Name)+" ADD COLUMN "+ident(RefColValidTo)+" TIMESTAMPTZ")
				}
			}
			query := c.Query(sqlfrag.Ident("src"), func(name string) sqlfrag.SQL { return sqlfrag.Ident("ref_" + name) }).String()
			golden(t, filepath.Join(dir, "query.sql"), query)

			out := filepath.Join(t.TempDir(), "result.csv")
			mustExec(t, db, "COPY (SELECT * EXCLUDE ("+ident(colPayload)+"), "+ident(colPayload)+" IS NOT NULL AS has_payload FROM ("+
				query+") ORDER BY "+ident(ColPartition)+", "+ident(ColOffset)+") TO "+str(out)+" (HEADER)")
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join(dir, "result.csv"), string(got))
		})
	}
}

func openDuckDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1) // one connection, so session settings and temp tables hold
	t.Cleanup(func() { db.Close() })
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.RegisterFunctions(conn); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	mustExec(t, db, "SET TimeZone = 'UTC'")
	return db
}

// bronzeRow is a line of bronze.jsonl; payload_hex stands in for payloads that are
// not valid UTF-8 and so cannot be JSON strings.
type bronzeRow struct {
	Topic      string    `json:"topic"`
	Partition  int32     `json:"partition"`
	Offset     int64     `json:"offset"`
	IngestedAt time.Time `json:"ingested_at"`
	Payload    *string   `json:"payload"`
	PayloadHex string    `json:"payload_hex"`
}

func loadBronze(t *testing.T, db *sql.DB, file string) {
	t.Helper()
	mustExec(t, db, `CREATE OR REPLACE TABLE src (payload BLOB, topic VARCHAR, "partition" INTEGER, "offset" BIGINT, ingested_at TIMESTAMPTZ)`)
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var r bronzeRow
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%s:%d: %v", file, n, err)
		}
		var payload []byte
		switch {
		case r.PayloadHex != "":
			if payload, err = hex.DecodeString(r.PayloadHex); err != nil {
				t.Fatalf("%s:%d: payload_hex: %v", file, n, err)
			}
		case r.Payload != nil:
			payload = []byte(*r.Payload)
		}
		if r.Topic == "" {
			r.Topic = "events"
		}
		mustExec(t, db, "INSERT INTO src VALUES (?, ?, ?, ?, ?)", payload, r.Topic, r.Partition, r.Offset, r.IngestedAt)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}

// ident and str quote names and strings in the tests' own SQL.
func ident(name string) string { return sqlfrag.Ident(name).String() }
func str(s string) string      { return sqlfrag.Str(s).String() }

func mustExec(t *testing.T, db *sql.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatalf("%v\nin: %s", err, query)
	}
}

// golden compares got with the file, or rewrites the file with -update.
func golden(t *testing.T, file, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test ./silver -run TestGolden -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test ./silver -run TestGolden -update rewrites it; review the diff)\n--- got\n%s\n--- want\n%s", file, got, want)
	}
}
