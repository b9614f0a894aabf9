// Package views keeps materialized views: DuckDB SELECTs over Silver, Gold and
// reference tables, each written as the Delta table views/<name> and refreshed in
// one commit, whole or by the time buckets that its inputs' commits touched.
//
//	vs, err := views.Load(ctx, p, engine.Config{}) // views/*.sql, checked
//	job := views.NewJob(views.Config{Store: store, Pipeline: p, Views: vs, Cache: c})
//	sum, err := job.Refresh(ctx, "hourly_trends", views.Options{})
//
// # Views
//
// A view is views/<name>.sql in the pipeline directory, written as the table
// views/<name> (views.<name> in lakectl query): a header of comment lines, then one
// DuckDB SELECT over silver.*, gold.* and ref.* tables.
//
//	-- description: Per hour and event type: events and users.
//	-- time: hour
//	-- refresh: 5m
//	SELECT date_trunc('hour', "timestamp") AS hour, event_type, count(*) AS events
//	FROM silver.events GROUP BY ALL
//
// The header keys, each once:
//
//   - description (required): what the view shows (continued on lines indented
//     "--    ").
//   - time: a DATE or TIMESTAMP column of the result. The view is partitioned by it
//     and refreshed by bucket; dashboards ask for time ranges by it. A row of time t
//     must be computed from input rows of t's UTC day alone (the event_date of
//     Silver, the day of a Gold table), as a Gold model with a window of one day is.
//   - refresh: a fixed refresh interval (Go duration), whatever the consumers need.
//
// The SELECT is checked as a Gold model's is (gold.ParseSelect): one query, no
// table function that reads files, inputs from DuckDB's parser, every table named
// with its layer and known to the pipeline. Every problem is a *gold.ModelError with
// file and line. A refresh runs the SELECT in a sealed session (engine.Session.Seal)
// that holds only the input files it reads.
//
// # A refresh
//
// Refresh compares the inputs' versions with those that the view's last refresh
// commit recorded and reads the input commits in between:
//
//   - none changed data: nothing is written (Summary.Skipped);
//   - the view has never been refreshed, or its file changed (commitInfo.viewHash):
//     full;
//   - the view has a time column and every commit said which days it touched (Silver
//     commits record the event_date partitions they wrote and rewrote in
//     commitInfo.partitions, Gold commits their day): incremental, which registers
//     only the input files of those days, keeps the result's rows of those days and
//     replaces the view's partitions of those days;
//   - otherwise (no time column, a reference table changed, a commit that does not
//     say where, Options.Full): full.
//
// The commit's commitInfo records job "views", the mode and the reason for it (a
// full refresh where an incremental one could have run says why), the version read
// of each input (of a live-tail refresh also the Bronze tables and the reference
// tables that the Silver contracts join), the days recomputed, the partitions replaced, the rows and the
// duration. Until it lands readers see the previous version; a refresh killed
// before it leaves only unreferenced files, and the next refresh starts over from
// the last commit. Two concurrent refreshes conflict on the partitions they
// replace; the loser re-reads and finds nothing left to do.
package views
