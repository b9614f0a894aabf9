// Package serve is the long-running side of lakectl: a scheduler that runs the
// pipeline by itself (Silver for every newly sealed hour, Gold for complete and stale
// days, each view at the cadence its plan derives), and the HTTP door that dashboards
// read views and Gold tables through.
//
//	s, err := serve.NewScheduler(serve.SchedulerConfig{Tasks: serve.PipelineTasks(lk)})
//	go s.Run(ctx, 30*time.Second) // on ctx's end: running tasks get 30s, then their context ends
//	h := serve.NewHandler(serve.HandlerConfig{Store: store, Pipeline: p, Views: vs, Scheduler: s})
//
// # Scheduling
//
// Every task runs on an "@every" spec of robfig/cron (no longer maintained: specs
// with TZ= or CRON_TZ=, which have known panics, are refused). A task never overlaps
// itself; a failing task is tried again with doubling backoff, and each failure is
// counted in Status and the metrics. Several replicas may run at once over one lake:
// every job's commit is idempotent (a Silver hour, a Gold day, a view refresh from
// the same input versions), so a replica's duplicate work commits nothing.
package serve
