// Package views keeps materialized views: DuckDB SELECTs over Silver, Gold and
// reference tables, each written as the Delta table views/<name> and refreshed in
// one commit, whole or by the time buckets that its inputs' commits touched.
//
//	vs, err := views.Load(ctx, p, engine.Config{}) // views/*.sql, checked
//	job := views.NewJob(views.Config{Env: jobenv.Env{Store: store, Pipeline: p, Cache: c}, Views: vs})
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
// file and line; LoadAll keeps the valid views and lists the refused ones in
// Views.Invalid, for lakectl status. A refresh runs the SELECT in a sealed session (engine.Session.Seal)
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
// tables that the Silver contracts join), the days recomputed, the partitions
// replaced, the rows, the duration, and the times through which it reflects the
// events (reflectsThrough, by event time, and ingestedThrough, the ingest mark that
// bounds it; see Freshness). Until it lands readers see the previous version; a
// refresh killed before it leaves only unreferenced files, and the next refresh
// starts over from the last commit. Two concurrent refreshes conflict on the
// partitions they replace; the loser re-reads and finds nothing left to do.
//
// # Freshness
//
// Freshness is end to end, by event time: a consumer's freshness is now minus T,
// the event time through which what it reads reflects the events (Status, and
// ReflectsThrough for one table). Of every table the lake knows two times:
//
//   - I, the ingest mark: every event ingested before I is in the table (Bronze's
//     sealing mark; of Silver without its live tail, no later than the start of the
//     first ingest hour that Silver has not processed);
//   - E, the newest event time among the events the table holds: the maximum of
//     the event-time column in Silver's file statistics and, for a live-tail
//     refresh, among the tail's rows, which the refresh computes.
//
// T is the earlier of the two. Nothing newer than E is in the table, so events
// stamped in the past (a producer that buffers, a device that was offline) hold T
// back by their delay. An event happens before it is ingested, so an event time
// past I (a clock ahead of the ingest's) does not mean that the events up to it
// have all arrived. A refresh takes the earliest T and I of its inputs; a Gold
// table reflects the events through the end of its newest complete day.
//
// T guarantees that every event up to T that was ingested before I is in the
// table. It cannot promise late events: one ingested after I with an event time
// before T is missing until a later refresh, though T has passed it. Only waiting
// bounds those; that wait is a Gold model's lateness. And T moves only with events: while a
// stream is quiet, T stays at its last event and the freshness grows, though
// nothing is missing.
package views
