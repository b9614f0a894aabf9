// Package serve is the long-running side of lakectl: a scheduler that runs the
// pipeline by itself (Silver for every newly sealed hour, Gold for complete and stale
// days, each view at the cadence its plan derives), and the HTTP door that dashboards
// read views and Gold tables through.
//
//	s, err := serve.NewScheduler(serve.SchedulerConfig{Tasks: serve.PipelineTasks(lk)})
//	go s.Run(ctx, 30*time.Second) // on ctx's end: running tasks get 30s, then their context ends
//	h := serve.NewHandler(serve.HandlerConfig{Store: store, Cache: c, Pipeline: p, Views: vs, Scheduler: s})
//	srv := serve.NewServer(":8088", h, 30*time.Second) // header, read, write and idle timeouts set
//
// # Scheduling
//
// Every task runs on an "@every" spec of robfig/cron (no longer maintained: specs
// with TZ= or CRON_TZ=, which have known panics, are refused). A task never overlaps
// itself; a failing task is tried again with doubling backoff, and each failure is
// counted in Status and the metrics. Several replicas may run at once over one lake:
// every job's commit is idempotent (a Silver hour, a Gold day, a view refresh from
// the same input versions), so a replica's duplicate work commits nothing.
//
// # HTTP
//
// GET /v1/views/NAME and /v1/gold/NAME (a Gold table that some consumer declares)
// return the table as JSON, CSV or Parquet, by Accept or ?format=, with ?from= and
// ?to= on its time column and ?limit=. The ETag is the table version; If-None-Match
// with it is a 304 without a query. Each query runs in a sealed DuckDB session that
// holds that table alone, with its own memory limit and timeout. A table's latest
// snapshot is read at most once per HandlerConfig.VersionTTL (latest.go), and full
// loads are kept by version and request within a byte bound (results.go). With tokens
// (Auth), a consumer's token reads only what the consumer declares. GET /v1/status,
// GET / (the same as an HTML page), /metrics, /healthz and /readyz complete it.
package serve
