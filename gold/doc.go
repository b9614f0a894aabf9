// Package gold builds the Gold layer: daily tables computed by SQL models over Silver,
// reference and other Gold tables, each day replaced in one commit that records what
// it read, so that lakectl knows which days are stale and why.
//
//	models, err := gold.Load(ctx, p, engine.Config{}) // models/*.sql, checked
//	job := gold.NewJob(gold.Config{Env: jobenv.Env{Store: store, Pipeline: p, Cache: c}, Models: models})
//	sum, err := job.RunDay(ctx, "daily_metrics", day, gold.RunOptions{})
//	stale, err := job.Stale(ctx, "daily_metrics") // days to rebuild, with reasons
//
// # Models
//
// A model is models/<name>.sql in the pipeline directory, writing the table
// gold/<name> (gold.<name> in lakectl query): a header of comment lines, then one
// DuckDB SELECT.
//
//	-- description: Per day and event type: events and amounts.
//	-- partition: event_date
//	-- window: silver.events 7d
//	-- lateness: 2h
//	-- audit unique_grain: SELECT event_date, event_type FROM this
//	--    GROUP BY ALL HAVING count(*) > 1
//	SELECT event_date, event_type, count(*) AS events FROM silver.events GROUP BY ALL
//
// The header keys, each once except window and audit:
//
//   - partition (required): the DATE column of the result the table is partitioned
//     by; a run of day D keeps the result's rows of D and replaces partition D.
//   - description: what the table holds (continued on lines indented "--    ").
//   - window: INPUT Nd: the days of an input that day D reads, D-N+1 through D.
//     Default: D alone. A reference table is read whole.
//   - lateness: how long after a day's end events of that day may still be ingested
//     (Go duration). Default 1h. See completeness.
//   - audit NAME: a query that returns the rows breaking a rule, so no rows when all
//     is well (continued on lines indented "--    "). It reads `this`, the day's new
//     rows, and the model's inputs as the day sees them.
//
// Other comment lines are free text, unless they look like "-- word:" with a word
// the header does not know, which is refused as a likely typo.
//
// The inputs come from the SQL, through DuckDB's parser (json_serialize_sql), never
// declared a second time; the sandbox's own table list (engine.ParseUserSQL) must
// agree. Load refuses, naming the file and line: a syntax error; more than one
// statement; anything but a query (COPY, ATTACH, SET, ...); a table function that
// reads files (read_csv, read_parquet, ...) or a file named as a table; a table not
// in the pipeline, or named without its layer; no table at all (inputs unknown);
// dependency cycles between gold.* models, naming the cycle; and a partition column
// the result lacks or that is not a DATE, a result column that Delta cannot store
// (HUGEINT: cast it), and an audit that does not bind against `this` (each model is
// bound, sealed, against its inputs' columns: Silver's from the contracts, a
// model's from its upstream model). LoadAll, for a report of the whole pipeline
// (lakectl status), keeps the valid models and lists each refused one in
// Models.Invalid, with a model that reads a refused one.
//
// # A run of day D
//
// Every input is registered as a view over only the files of the days D reads (the
// partition values come from the Delta log, never a scan), the DuckDB session is
// sealed, the model runs into a temporary table, then the audits run over it. A
// failing audit fails the run with its name and sample rows: nothing is committed.
// Then one commit removes the old files of partition D and adds the new ones, with
// txn {appId: "gold/<model>/<D>/<hash of the model's file>", version: the sum of the
// input versions read} and, in commitInfo, the version of each input read
// ("inputs"), the days read of each ("read"), the day, whether it was partial, the
// model's hash and the partition written. A run that finds its txn at that version
// (the same inputs and the same text of the model give the same result) has nothing
// to do, so two concurrent runs of one day leave one commit: the loser conflicts on
// the txn and finds it on its retry. A run killed before its commit leaves only
// unreferenced files.
//
// # Staleness
//
// From commits only, never a guessed lookback. Day D of a model is stale when:
//
//   - an input commit after the version that D's last build read touched a day that
//     D reads (through its window): Silver commits record the event_date partitions
//     they wrote and rewrote, Gold commits their day; a commit that changed data
//     without saying where, and any new version of a reference table, touches all;
//   - an input has data for D and the model has never built it: a gap;
//   - D was built partially (forced while incomplete) and is complete now;
//   - D was built by another text of the model (commitInfo.modelHash).
//
// RunStale rebuilds exactly those days, model by model in dependency order, so a
// downstream model sees what its upstream rebuilt. Nothing else is recomputed; a
// wider rebuild is a run of the days asked for.
//
// # Completeness
//
// Day D is complete when every ingest hour that can hold its events has been
// processed: for each Silver input, Bronze is sealed (see layout.SealedThrough in bronze/layout)
// through D's end plus the model's lateness, and Silver has processed every sealed
// ingest hour from D 00:00 to that time (none is pending). For a Gold input, no day
// of the window was built partially. RunDay refuses an incomplete day unless Force;
// a forced build is recorded as partial and is stale once the day is complete.
// Events later than the lateness are not lost: they land in Silver, and their commit
// makes D stale.
package gold
