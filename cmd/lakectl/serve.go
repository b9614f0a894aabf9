package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/lakectl/lakectl/bronze"
	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/pgwire"
	"github.com/lakectl/lakectl/pipeline"
	"github.com/lakectl/lakectl/serve"
)

func newServeCmd() *cobra.Command {
	var (
		pf           pipelineFlags
		addr, pgAddr string
		ingest       bool
		poll, bound  time.Duration
		qcfg         queryLimits
		pgFiles      pgTLS
	)
	cmd := &cobra.Command{
		Use:   "serve [--http ADDR] [--ingest]",
		Short: "Run the pipeline by itself and serve views to dashboards over HTTP",
		Long: `Run the pipeline in one long-running process: Silver for every newly sealed
ingest hour, Gold for every complete or stale day (each --poll), and each view at
the cadence lakectl plan derives from its consumers' freshness SLOs. A task never
overlaps itself; a failing one is tried again with backoff, and its failures show
in /v1/status and /metrics. Several replicas may run at once over one lake: the
commits make their duplicate work no-ops. --ingest runs ingest (Kafka and HTTP, as
lakectl.yaml says) in the same process.

Over HTTP (--http):
  GET /v1/views/NAME, /v1/gold/NAME   a view, or a Gold table that a consumer reads:
                                      JSON, CSV or Parquet (Accept or ?format=),
                                      ?from= ?to= on its time column, ?limit=;
                                      ETag (the table version), Last-Modified,
                                      Lakectl-Reflects-Through, Lakectl-Freshness-Slo
  GET /v1/status                      tasks, refreshes, stale days, consumers' freshness
  GET /metrics, /healthz, /readyz
  GET /                               the status page (HTML)

Over the Postgres wire protocol (--pg ADDR), read-only: each consumer with a token
connects as user NAME with its token as password (psql, Grafana, Metabase, Superset),
and reads only the tables it declares. Passwords are checked with SCRAM-SHA-256, so they
never cross the network; queries and results are encrypted when the port has
a TLS certificate (--pg-tls-cert, --pg-tls-key, or serve.pg.tls_cert and tls_key in
lakectl.yaml); with one, every connection must use TLS. Without one, serve refuses
an address beyond loopback unless serve.pg.allow_unencrypted is true.

Tokens come from lakectl.yaml (consumers.NAME.token, serve.metrics_token) or the
environment (LAKECTL_TOKEN_<CONSUMER>, LAKECTL_METRICS_TOKEN), never from the
command line. With consumer tokens set, each reads only what its consumer declares.

On SIGTERM no task starts any more; running ones get --stop-timeout to finish,
then stop before their commit.`,
		Example: `  lakectl serve --http :8088
  LAKECTL_TOKEN_PRODUCT=s3cret lakectl serve --ingest`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			env, err := pf.open(ctx, false)
			if err != nil {
				return err
			}
			reg := prometheus.NewRegistry()
			reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
			// Ready while serving; not once a stop began, so that a load balancer sends
			// no new requests to a process that is going away.
			var ready atomic.Bool
			sched, h, err := env.serve(ctx, reg, poll, qcfg, func() error {
				if !ready.Load() {
					return errors.New("stopping")
				}
				return nil
			})
			if err != nil {
				return err
			}
			var pg *pgwire.Server
			var pgLn net.Listener
			if pgAddr != "" {
				if pg, err = env.pgServer(qcfg, pgFiles); err != nil {
					return err
				}
				if pgLn, err = listenPG(pg, pgAddr); err != nil {
					return err
				}
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("serve: %w", err)
			}
			srv := serve.NewServer(addr, h, qcfg.timeout)
			env.log.Info("serving", "http", ln.Addr().String(), "ingest", ingest)
			g, gctx := errgroup.WithContext(ctx)
			ready.Store(true)
			g.Go(func() error { return sched.Run(gctx, bound) })
			g.Go(func() error {
				if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
					return fmt.Errorf("serve http: %w", err)
				}
				return nil
			})
			g.Go(func() error {
				<-gctx.Done()
				ready.Store(false)
				sctx, cancel := context.WithTimeout(context.WithoutCancel(gctx), bound)
				defer cancel()
				return srv.Shutdown(sctx)
			})
			if pg != nil {
				g.Go(func() error { return runPG(gctx, pg, pgLn) })
			}
			if ingest {
				svc, err := env.ingestService(reg)
				if err != nil {
					return err
				}
				g.Go(func() error { return svc.Run(gctx) })
			}
			return g.Wait()
		},
	}
	pf.register(cmd)
	f := cmd.Flags()
	f.StringVar(&addr, "http", ":8088", "address to serve HTTP on")
	f.StringVar(&pgAddr, "pg", "", "address to serve the read-only Postgres wire protocol on (e.g. 127.0.0.1:5433); each consumer with a token connects as its name, the token as password")
	f.StringVar(&pgFiles.cert, "pg-tls-cert", "", "PEM file of the Postgres port's TLS certificate (default: serve.pg.tls_cert); given, every connection must use TLS")
	f.StringVar(&pgFiles.key, "pg-tls-key", "", "PEM file of the Postgres port's TLS key (default: serve.pg.tls_key)")
	bindEnv(f, "pg-tls-cert", "LAKECTL_PG_TLS_CERT")
	bindEnv(f, "pg-tls-key", "LAKECTL_PG_TLS_KEY")
	f.BoolVar(&ingest, "ingest", false, "run ingest in this process too (Kafka and HTTP sources of lakectl.yaml)")
	f.DurationVar(&poll, "poll", serve.DefaultPoll, "how often Silver looks for sealed hours and Gold for complete or stale days")
	f.StringVar(&qcfg.memory, "query-memory-limit", "256MiB", "DuckDB memory limit of each dashboard query")
	f.DurationVar(&qcfg.timeout, "query-timeout", 30*time.Second, "time limit of each dashboard query (past it: 503)")
	f.DurationVar(&bound, "stop-timeout", 30*time.Second, "how long running tasks may take to finish on SIGTERM before they stop short of their commit")
	return cmd
}

// queryLimits bound each query that a dashboard's request runs.
type queryLimits struct {
	memory  string
	timeout time.Duration
}

// serve builds the scheduler of the pipeline's tasks and the HTTP handler.
func (e *pipelineEnv) serve(ctx context.Context, reg *prometheus.Registry, poll time.Duration, q queryLimits, ready func() error) (*serve.Scheduler, *serve.Handler, error) {
	gj, models, err := e.goldJob(ctx, nil)
	if err != nil {
		return nil, nil, err
	}
	vj, vs, err := e.viewsJob(ctx, nil)
	if err != nil {
		return nil, nil, err
	}
	plan, err := e.plan(ctx, false)
	if err != nil {
		return nil, nil, err
	}
	p := serve.Pipeline{Silver: e.job(nil), SilverTables: e.silverTables(nil), Views: vj, Plan: plan, Poll: poll}
	if len(models.Order) > 0 {
		p.Gold = gj
	}
	sched, err := serve.NewScheduler(serve.SchedulerConfig{Tasks: serve.PipelineTasks(p), Logger: e.log, Registerer: reg})
	if err != nil {
		return nil, nil, err
	}
	h := serve.NewHandler(serve.HandlerConfig{
		Store: e.store, Cache: e.cache, Pipeline: e.p, Views: vs, Models: models, Gold: gj, Scheduler: sched,
		Engine:       engine.Config{MemoryLimit: q.memory, Threads: 1, TempDir: e.p.DuckDB.TempDir, Logger: e.log},
		QueryTimeout: q.timeout, Auth: serveAuth(e.p, os.Getenv), Registerer: reg, Gatherer: reg, Logger: e.log, Ready: ready,
	})
	return sched, h, nil
}

// serveAuth reads the tokens: lakectl.yaml, overridden by the environment.
func serveAuth(p *pipeline.Pipeline, getenv func(string) string) serve.Auth {
	a := serve.Auth{Tokens: map[string]string{}, MetricsToken: p.Serve.MetricsToken}
	for _, c := range p.Consumers {
		tok := c.Token
		if v := getenv("LAKECTL_TOKEN_" + strings.ToUpper(strings.ReplaceAll(c.Name, "-", "_"))); v != "" {
			tok = v
		}
		if tok != "" {
			a.Tokens[c.Name] = tok
		}
	}
	if v := getenv("LAKECTL_METRICS_TOKEN"); v != "" {
		a.MetricsToken = v
	}
	return a
}

// ingestService is ingest as lakectl.yaml configures it, for serve --ingest.
func (e *pipelineEnv) ingestService(reg prometheus.Registerer) (*bronze.Service, error) {
	p := e.p
	var streams []string
	var flush time.Duration
	for _, st := range p.Streams {
		streams = append(streams, st.Name)
		if flush == 0 || st.FlushInterval < flush {
			flush = st.FlushInterval
		}
	}
	group := p.Kafka.Group
	if group == "" {
		group = bronze.DefaultGroup
	}
	return bronze.New(bronze.Config{
		Store: e.store, Brokers: p.Kafka.Brokers, Group: group, Topics: p.Kafka.Topics,
		FlushInterval: flush, Graces: p.Graces(), HTTPAddr: p.HTTP.Listen,
		HTTP: bronze.HTTPConfig{Streams: streams, HeaderTimeout: p.HTTP.HeaderTimeout, BodyTimeout: p.HTTP.BodyTimeout,
			StallTimeout: p.HTTP.StallTimeout, IdleTimeout: p.HTTP.IdleTimeout},
		Logger: e.log, Registerer: reg,
	})
}
