package bronze

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"
)

// Service is the ingest service: a Kafka consumer-group member and/or an HTTP
// endpoint, both appending to Bronze tables exactly once.
type Service struct {
	cfg     Config
	log     *slog.Logger
	metrics *Metrics
	kafka   *kafkaIngest
	ln      net.Listener

	mu       sync.Mutex
	ctx      context.Context // for the batchers: ends once the HTTP server has drained
	hard     context.Context // for shutdown work: ends ShutdownTimeout after shutdown began
	g        *errgroup.Group
	tables   map[string]*tableWriter
	batchers map[string]*httpBatcher
	failed   chan error // permanent errors of the batchers; the first stops the service
}

// New checks cfg, connects nothing yet but the HTTP listener, and returns the service.
func New(cfg Config) (*Service, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Service{
		cfg:      cfg,
		log:      cfg.Logger.With("component", "bronze"),
		metrics:  NewMetrics(cfg.Registerer),
		tables:   map[string]*tableWriter{},
		batchers: map[string]*httpBatcher{},
		failed:   make(chan error, 1),
	}
	if len(cfg.Brokers) > 0 {
		if s.kafka, err = newKafkaIngest(cfg, s.metrics); err != nil {
			return nil, err
		}
	}
	if cfg.HTTPAddr != "" {
		if s.ln, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
			return nil, fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
		}
	}
	return s, nil
}

// Addr is the HTTP address the service listens on ("" without HTTP).
func (s *Service) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Metrics returns the service's metrics.
func (s *Service) Metrics() *Metrics { return s.metrics }

// Run ingests until ctx ends or a permanent error (see retryable) stops it, then
// shuts down: HTTP stops accepting, queued requests and open files are committed,
// and the group is left. The shutdown takes at most Config.ShutdownTimeout: work
// still uncommitted then is dropped (Kafka records are read again by the next
// owner; the HTTP requests holding it get 503) and Run returns an error. Nothing is
// half committed, since every commit is one atomic Delta commit. Run returns the
// permanent error that stopped it, nil after a clean stop.
func (s *Service) Run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	hard, cut := context.WithCancel(context.WithoutCancel(ctx))
	var timedOut atomic.Bool
	watchdog := make(chan struct{})
	go func() {
		defer close(watchdog)
		s.shutdownDeadline(gctx, hard, cut, &timedOut)
	}()
	defer func() { cut(); <-watchdog }()
	// Batchers outlive the HTTP server's shutdown, which waits for the requests
	// they are committing.
	bctx, stopBatchers := context.WithCancel(hard)
	defer stopBatchers()
	s.mu.Lock()
	s.ctx, s.hard, s.g = bctx, hard, g
	s.mu.Unlock()
	g.Go(func() error {
		select {
		case err := <-s.failed:
			return err
		case <-gctx.Done():
			return nil
		}
	})
	if s.kafka != nil {
		g.Go(func() error { return s.kafka.run(gctx, hard) })
	}
	if !s.cfg.Compact.Off {
		g.Go(func() error { return s.compactLoop(gctx) })
	}
	if s.ln != nil {
		srv := s.httpServer()
		g.Go(func() error {
			if err := srv.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("serve HTTP on %s: %w", s.ln.Addr(), err)
			}
			return nil
		})
		g.Go(func() error {
			<-gctx.Done()
			defer stopBatchers()
			err := srv.Shutdown(hard)
			if err != nil && hard.Err() != nil {
				// Cut at the deadline: the batchers now answer what they held with
				// 503; give the handlers a moment to send it, then close.
				lctx, cancel := context.WithTimeout(context.WithoutCancel(hard), time.Second)
				defer cancel()
				if srv.Shutdown(lctx) != nil {
					srv.Close()
				}
				return nil
			}
			if err != nil {
				return fmt.Errorf("shut down HTTP on %s: %w", s.ln.Addr(), err)
			}
			return nil
		})
		for _, stream := range s.cfg.HTTP.Streams {
			if _, err := s.batcher(stream); err != nil {
				return err
			}
		}
	}
	s.log.Info("ingest running", "brokers", s.cfg.Brokers, "topics", s.cfg.Topics, "http", s.Addr())
	err := g.Wait()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	if err == nil && timedOut.Load() {
		err = fmt.Errorf("shutdown did not finish within its timeout (%s): what was not committed by then was dropped", s.cfg.ShutdownTimeout)
	}
	return err
}

// shutdownDeadline cuts hard ShutdownTimeout after shutdown begins (gctx ends),
// unless Run has finished (hard ends) first.
func (s *Service) shutdownDeadline(gctx, hard context.Context, cut context.CancelFunc, timedOut *atomic.Bool) {
	select {
	case <-gctx.Done():
	case <-hard.Done():
		return
	}
	s.log.Info("ingest shutting down", "timeout", s.cfg.ShutdownTimeout, "cause", context.Cause(gctx))
	t := time.NewTimer(s.cfg.ShutdownTimeout)
	defer t.Stop()
	select {
	case <-t.C:
		timedOut.Store(true)
		s.log.Error("shutdown timeout reached; dropping what is not committed yet", "timeout", s.cfg.ShutdownTimeout)
		cut()
	case <-hard.Done():
	}
}

// fail stops the service with a permanent error; later ones are dropped, since
// the first already stops everything.
func (s *Service) fail(err error) {
	select {
	case s.failed <- err:
	default:
	}
}

// Handler serves /metrics, /healthz and, unless turned off, the ingest endpoint.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	gatherer, ok := s.cfg.Registerer.(prometheus.Gatherer)
	if !ok {
		reg := prometheus.NewRegistry()
		gatherer = reg
	}
	mux.Handle("GET /metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	if !s.cfg.HTTPIngestOff {
		mux.HandleFunc("POST /v1/streams/{stream}/events", s.handleEvents)
	}
	return mux
}

// errShuttingDown answers requests for a stream whose batcher would start after
// shutdown began.
var errShuttingDown = errors.New("ingest is shutting down")

// batcher returns the group committer of stream, starting it on first use.
func (s *Service) batcher(stream string) (*httpBatcher, error) {
	if !ValidStream(stream) {
		return nil, fmt.Errorf("stream %q: names are lower-case letters, digits, _ and -", stream)
	}
	if len(s.cfg.HTTP.Streams) > 0 && !slices.Contains(s.cfg.HTTP.Streams, stream) {
		return nil, fmt.Errorf("stream %q does not accept HTTP events", stream)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.batchers[stream]; b != nil {
		return b, nil
	}
	if s.g == nil || s.ctx.Err() != nil {
		return nil, errShuttingDown
	}
	w := newTableWriter(s.cfg.Store, stream, s.log, s.metrics)
	b := newHTTPBatcher(w, s.cfg.HTTP, s.cfg.Files, s.cfg.Graces.Of(stream), s.cfg.Now, s.hard, s.fail, s.metrics,
		s.log.With("source", "http", "stream", stream))
	s.batchers[stream] = b
	ctx := s.ctx
	s.g.Go(func() error { b.run(ctx); return nil })
	return b, nil
}
