package silver

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/lakectl/lakectl/engine/sqlfrag"
	"github.com/lakectl/lakectl/pipeline"
)

// edgeContract has one field of each type whose JSON text can spell a value that is
// not a point on the line: infinite or not a number.
func edgeContract(t *testing.T) *Contract {
	t.Helper()
	min := 0.0
	c, err := Compile(pipeline.Table{
		Name: "edge", Source: "edge", Key: []string{"id"}, EventTime: "at",
		Fields: []pipeline.Field{
			{Name: "id", Type: "string", Required: true},
			{Name: "at", Type: "timestamp", Required: true},
			{Name: "x", Type: "double", Min: &min},
			{Name: "day", Type: "date"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestNonFiniteValuesAreRejected: JSON has no NaN or infinity, but DuckDB reads the
// strings "NaN", "Infinity" and "infinity" as such values. They would pass range checks
// (NaN compares false) and an infinite event time has no event_hour, so each must be
// quarantined with a reason.
func TestNonFiniteValuesAreRejected(t *testing.T) {
	db := openDuckDB(t)
	c := edgeContract(t)
	mustExec(t, db, `CREATE OR REPLACE TABLE src (payload BLOB, topic VARCHAR, "partition" INTEGER, "offset" BIGINT, ingested_at TIMESTAMPTZ)`)
	cases := []struct {
		payload, reason string
	}{
		{`{"id":"ok","at":"2026-11-21T08:00:00Z","x":1.5,"day":"2026-11-21"}`, ""},
		{`{"id":"t1","at":"infinity"}`, `at: "infinity" is not a timestamp`},
		{`{"id":"t2","at":"-infinity"}`, `at: "-infinity" is not a timestamp`},
		{`{"id":"x1","at":"2026-11-21T08:00:00Z","x":"NaN"}`, `x: "NaN" is not a double`},
		{`{"id":"x2","at":"2026-11-21T08:00:00Z","x":"Infinity"}`, `x: "Infinity" is not a double`},
		{`{"id":"d1","at":"2026-11-21T08:00:00Z","day":"infinity"}`, `day: "infinity" is not a date`},
	}
	for i, tc := range cases {
		mustExec(t, db, "INSERT INTO src VALUES (?, 'edge', 0, ?, ?)", []byte(tc.payload), i, time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC))
	}
	rows, err := db.Query(`SELECT coalesce(` + ident(colReason) + `, ''), event_hour IS NOT NULL FROM (` +
		c.Query(sqlfrag.Ident("src"), nil).String() + `) ORDER BY ` + ident(ColOffset))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for i := 0; rows.Next(); i++ {
		var reason string
		var hasHour bool
		if err := rows.Scan(&reason, &hasHour); err != nil {
			t.Fatal(err)
		}
		if reason != cases[i].reason {
			t.Errorf("%s: reason %q, want %q", cases[i].payload, reason, cases[i].reason)
		}
		if reason == "" && !hasHour {
			t.Errorf("%s: valid row without an event_hour", cases[i].payload)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

// TestInfiniteEventTimeDoesNotStopTheHour: one producer's bad timestamp must not
// make the hour fail on every run; the row goes to quarantine and the rest to Silver.
func TestInfiniteEventTimeDoesNotStopTheHour(t *testing.T) {
	l := newTestLake(t)
	at := ts("2026-11-21T08:00:00Z")
	l.ingest([]rec{
		{0, 0, at, event("e1", "u1", "click", 0, at)},
		{0, 1, at, `{"event_id":"e2","user_id":"u2","event_type":"click","timestamp":"infinity"}`},
	}, ts("2026-11-21T09:10:00Z"))
	sum, err := l.job().RunHour(t.Context(), "events", hourAt("2026-11-21T08"), RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Written != 1 || sum.Quarantined != 1 {
		t.Errorf("summary = %+v, want 1 written and 1 quarantined", sum)
	}
	var reason string
	l.query(`SELECT reason FROM quarantine.events`, &reason)
	if !strings.Contains(reason, "timestamp") {
		t.Errorf("quarantine reason = %q, want it to name the timestamp", reason)
	}
}

// TestBatchAndStoredRankingAgree: the winner of a duplicate must not depend on
// whether its copies arrive in one batch (ranked by the query's row_number) or in two
// runs (ranked by comparing a batch row with a stored one). HTTP rows have no topic;
// an HTTP copy and a Kafka copy with the same event and ingest time must rank the same
// way both times.
func TestBatchAndStoredRankingAgree(t *testing.T) {
	db := openDuckDB(t)
	c := edgeContract(t)
	mustExec(t, db, `CREATE OR REPLACE TABLE src (payload BLOB, topic VARCHAR, "partition" INTEGER, "offset" BIGINT, ingested_at TIMESTAMPTZ)`)
	payload := []byte(`{"id":"e1","at":"2026-11-21T08:00:00Z"}`)
	ingested := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	mustExec(t, db, "INSERT INTO src VALUES (?, NULL, -1, 7, ?), (?, 'events', 0, 3, ?)", payload, ingested, payload, ingested)
	mustExec(t, db, "CREATE TABLE ranked AS "+c.Query(sqlfrag.Ident("src"), nil).String())

	var batchWinner string
	if err := db.QueryRow(`SELECT coalesce(` + ident(ColTopic) + `, 'http') FROM ranked WHERE ` + ident(colRank) + ` = 1`).Scan(&batchWinner); err != nil {
		t.Fatal(err)
	}
	// As if the HTTP copy were stored (e) and the Kafka copy came in a later batch (b).
	var storedWins bool
	if err := db.QueryRow(`SELECT ` + c.rankRow(aliasExisting).String() + ` <= ` + c.rankRow(aliasBatch).String() + ` FROM ranked e, ranked b WHERE e.` +
		ident(ColTopic) + ` IS NULL AND b.` + ident(ColTopic) + ` IS NOT NULL`).Scan(&storedWins); err != nil {
		t.Fatal(err)
	}
	acrossRuns := "events"
	if storedWins {
		acrossRuns = "http"
	}
	if batchWinner != acrossRuns {
		t.Errorf("winner in one batch = %s, across two runs = %s; want the same", batchWinner, acrossRuns)
	}
}

// TestCompileRefusesNonFiniteBounds: a bound reaches SQL only as a checked literal, so
// a NaN or infinite one (from a Table built in code; the loader refuses them in
// lakectl.yaml) is a compile error naming the field, not a binder error in DuckDB.
func TestCompileRefusesNonFiniteBounds(t *testing.T) {
	for _, bound := range []float64{math.NaN(), math.Inf(1)} {
		_, err := Compile(pipeline.Table{
			Name: "edge", Source: "edge", Key: []string{"id"}, EventTime: "at",
			Fields: []pipeline.Field{
				{Name: "id", Type: "string", Required: true},
				{Name: "at", Type: "timestamp", Required: true},
				{Name: "x", Type: "double", Max: &bound},
			},
		})
		if err == nil || !strings.Contains(err.Error(), "field x: max") {
			t.Errorf("max %v: err = %v, want one naming field x and its max", bound, err)
		}
	}
}
