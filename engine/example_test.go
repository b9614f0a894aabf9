package engine_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/mem"
)

// SQL that a user wrote runs in a sealed session: checked first, which also says the
// tables it names, then run once those tables are registered and the session sealed.
func ExampleSession_Seal() {
	ctx := context.Background()
	sess, err := engine.Open(ctx, engine.Config{MemoryLimit: "256MiB", Threads: 1})
	if err != nil {
		panic(err)
	}
	defer sess.Close()

	q, err := sess.ParseUserSQL(ctx, "SELECT 6 * 7 AS answer")
	if err != nil {
		panic(err)
	}
	fmt.Println("tables named:", len(q.Tables))
	// Register the tables of q.Tables here, with sess.RegisterTable, then seal.
	if err := sess.Seal(ctx, engine.SealOptions{}); err != nil {
		panic(err)
	}
	var answer int
	rows, err := sess.QueryUser(ctx, q)
	if err != nil {
		panic(err)
	}
	for rows.Next() {
		rows.Scan(&answer)
	}
	rows.Close()
	fmt.Println("answer:", answer)

	_, err = sess.ParseUserSQL(ctx, "COPY (SELECT 1) TO 'x.csv'")
	var refused *engine.RefusedError
	fmt.Println("COPY refused:", errors.As(err, &refused))
	// Output:
	// tables named: 0
	// answer: 42
	// COPY refused: true
}

// Before a table's files are fetched, Prune keeps those that the query's WHERE
// comparisons can need, by the partition values and statistics in the Delta log.
func ExampleSession_Prune() {
	ctx := context.Background()
	sess, err := engine.Open(ctx, engine.Config{MemoryLimit: "256MiB", Threads: 1})
	if err != nil {
		panic(err)
	}
	defer sess.Close()

	// A table of two days, a file each.
	const rows = `SELECT DATE '2026-11-01' + CAST($1 AS INTEGER) AS day, 42 AS n`
	schema, err := sess.QuerySchema(ctx, rows, 0)
	if err != nil {
		panic(err)
	}
	js, _ := schema.JSON()
	table := lake.NewTable(mem.New(), "silver/events")
	tx := table.Begin(nil)
	tx.SetMetadata(lake.Metadata{SchemaString: js, PartitionColumns: []string{"day"}})
	for day := range 2 {
		adds, err := sess.WriteFiles(ctx, table, []string{"day"}, rows, day)
		if err != nil {
			panic(err)
		}
		tx.Add(adds...)
	}
	if _, err := tx.Commit(ctx); err != nil {
		panic(err)
	}
	snap, err := table.Latest(ctx)
	if err != nil {
		panic(err)
	}

	q, err := sess.ParseUserSQL(ctx, "SELECT sum(n) FROM silver.events WHERE day = '2026-11-02'")
	if err != nil {
		panic(err)
	}
	kept, report, err := sess.Prune(ctx, q, engine.TableName{Schema: "silver", Name: "events"}, snap, snap.Files())
	if err != nil {
		panic(err)
	}
	fmt.Printf("kept %d of %d files, pruned on %v\n", len(kept), report.Files, report.Columns)
	// Then: sess.RegisterFiles(ctx, "silver", "events", snap, kept, files), Seal, QueryUser.
	// Output:
	// kept 1 of 2 files, pruned on [day]
}
