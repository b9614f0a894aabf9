package catalog_test

import (
	"context"
	"fmt"
	"os"

	"github.com/lakectl/lakectl/catalog"
	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/mem"
	"github.com/lakectl/lakectl/pipeline"
)

// A statement reads the tables it names, each with only the files its WHERE
// comparisons can need, in a sealed session.
func ExampleCatalog_Plan() {
	ctx := context.Background()
	store := mem.New()
	sess, err := engine.Open(ctx, engine.Config{MemoryLimit: "256MiB", Threads: 1})
	if err != nil {
		panic(err)
	}
	defer sess.Close()
	writeTwoDays(ctx, sess, lake.NewTable(store, "silver/events"))

	cat := catalog.ForLake(catalog.Config{Store: store}) // a lake without a pipeline
	uq, err := sess.ParseUserSQL(ctx, "SELECT sum(n) FROM silver.events WHERE day = '2026-11-02'")
	if err != nil {
		panic(err)
	}
	for _, n := range uq.Tables {
		plan, err := cat.Plan(ctx, sess, uq, n)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s v%d: %d of %d files\n", n, plan.Snap.Version, len(plan.Adds), plan.Report.Files)
		if err := catalog.Register(ctx, sess, n, plan); err != nil {
			panic(err)
		}
	}
	if err := sess.Seal(ctx, engine.SealOptions{}); err != nil {
		panic(err)
	}
	rows, err := sess.QueryUser(ctx, uq)
	if err != nil {
		panic(err)
	}
	defer rows.Close()
	var sum int
	for rows.Next() {
		rows.Scan(&sum)
	}
	fmt.Println("sum:", sum)
	// Output:
	// silver.events v0: 1 of 2 files
	// sum: 42
}

// A pipeline's tables by the names SQL gives them, with their roots in the lake.
func ExampleForPipeline() {
	dir, _ := os.MkdirTemp("", "pipeline")
	defer os.RemoveAll(dir)
	if _, err := pipeline.WriteExample(dir); err != nil {
		panic(err)
	}
	p, err := pipeline.Load(dir, pipeline.Overrides{})
	if err != nil {
		panic(err)
	}
	cat := catalog.ForPipeline(p, catalog.Config{Store: mem.New()})
	for _, n := range cat.Names(context.Background()) {
		src, _ := cat.Source(n)
		fmt.Println(n, src.Root)
	}
	// Output:
	// bronze.events bronze/events
	// silver.events silver/events
	// quarantine.events quarantine/events
	// ref.users ref/users
	// gold.daily_metrics gold/daily_metrics
	// gold.user_daily gold/user_daily
	// views.daily_summary views/daily_summary
	// views.hourly_trends views/hourly_trends
	// views.realtime_kpis views/realtime_kpis
}

// writeTwoDays commits a table of two days, a file each.
func writeTwoDays(ctx context.Context, sess *engine.Session, table *lake.Table) {
	const rows = `SELECT DATE '2026-11-01' + CAST($1 AS INTEGER) AS day, 42 AS n`
	schema, err := sess.QuerySchema(ctx, rows, 0)
	if err != nil {
		panic(err)
	}
	js, _ := schema.JSON()
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
}
