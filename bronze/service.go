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
	g        *errgroup.Group
	tables   map[string]*tableWriter
	batchers map[string]*httpBatcher
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

// Run ingests until ctx ends, then shuts down gracefully: HTTP stops accepting,
// queued requests and open files are committed, and the group is left.
func (s *Service) Run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	// Batchers outlive the HTTP server's shutdown, which waits for the requests
	// they are committing.
	bctx, stopBatchers := context.WithCancel(context.WithoutCancel(gctx))
	defer stopBatchers()
	s.mu.Lock()
	s.ctx, s.g = bctx, g
	s.mu.Unlock()
	if s.kafka != nil {
		g.Go(func() error { return s.kafka.run(gctx) })
	}
	if !s.cfg.Compact.Off {
		g.Go(func() error { return s.compactLoop(gctx) })
	}
	if s.ln != nil {
		srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
		g.Go(func() error {
			if err := srv.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("serve HTTP on %s: %w", s.ln.Addr(), err)
			}
			return nil
		})
		g.Go(func() error {
			<-gctx.Done()
			sctx, cancel := context.WithTimeout(context.WithoutCancel(gctx), 30*time.Second)
			defer cancel()
			defer stopBatchers()
			return srv.Shutdown(sctx)
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
	return err
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
		return nil, errors.New("ingest is shutting down")
	}
	w := newTableWriter(s.cfg.Store, stream, s.log, s.metrics)
	b := newHTTPBatcher(w, s.cfg.HTTP, s.cfg.Files, s.cfg.Graces.Of(stream), s.cfg.Now, s.metrics, s.log.With("source", "http", "stream", stream))
	s.batchers[stream] = b
	ctx := s.ctx
	s.g.Go(func() error { b.run(ctx); return nil })
	return b, nil
}
