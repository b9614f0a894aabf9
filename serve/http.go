package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/gold"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/cache"
	"github.com/lakectl/lakectl/pipeline"
	"github.com/lakectl/lakectl/views"
)

// HandlerConfig sets up the HTTP handler. Zero values take the documented defaults.
type HandlerConfig struct {
	Store    lake.Store
	Cache    *cache.Cache // required: where queries' data files are kept
	Pipeline *pipeline.Pipeline
	Views    *views.Views
	// Models are the Gold models (their tables and day columns), Gold the job that
	// lists their stale days in status; nil without models.
	Models *gold.Models
	Gold   *gold.Job
	// Scheduler's tasks are in status; nil for none.
	Scheduler *Scheduler
	// Engine sets up each query's session: its memory limit is the per-query one.
	// Default: one thread and 256MiB.
	Engine engine.Config
	// QueryTimeout bounds one query. Default: 30s.
	QueryTimeout time.Duration
	// VersionTTL is how long a table's latest version, once read, is taken as its
	// latest: a response (a 304 too) reflects a commit at most this long after it.
	// Default: DefaultVersionTTL (1s); negative: every request reads the log.
	VersionTTL time.Duration
	// ResultCacheBytes bounds the encoded responses kept by table version, format,
	// range and limit, so that dashboards loading the same view run one query per
	// version. Default: DefaultResultCacheBytes (64MiB); negative: none kept.
	ResultCacheBytes int64
	Auth             Auth
	// Registerer gets the HTTP and freshness metrics, Gatherer serves /metrics.
	// Default: none, and /metrics serves nothing.
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer
	// Ready says whether the process is ready (for /readyz). Default: always.
	Ready  func() error
	Logger *slog.Logger
	Now    func() time.Time
}

// Handler serves the views and Gold tables that consumers declare, the status and
// the metrics:
//
//	GET /v1/views/{name}  GET /v1/gold/{name}  (?format=json|csv|parquet, ?from=, ?to=, ?limit=)
//	GET /v1/status  GET /metrics  GET /healthz  GET /readyz  GET / (the status page)
type Handler struct {
	cfg      HandlerConfig
	auth     *authorizer
	mux      *http.ServeMux
	log      *slog.Logger
	requests *prometheus.CounterVec
	results  *prometheus.CounterVec // full loads by whether the result cache held them

	latest *latestCache
	cache  *resultCache

	// through caches each table's reflects-through time by version: a version's
	// history does not change, and dashboards poll the same version many times.
	throughMu sync.Mutex
	through   map[string]reflects
}

// reflects is the event time a table version reflects; ok is false for none.
type reflects struct {
	version int64
	t       time.Time
	ok      bool
}

// NewHandler builds the handler over cfg.
func NewHandler(cfg HandlerConfig) *Handler {
	if cfg.Engine.MemoryLimit == "" {
		cfg.Engine.MemoryLimit = "256MiB"
	}
	if cfg.Engine.Threads <= 0 {
		cfg.Engine.Threads = 1
	}
	if cfg.QueryTimeout <= 0 {
		cfg.QueryTimeout = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.VersionTTL == 0 {
		cfg.VersionTTL = DefaultVersionTTL
	}
	if cfg.ResultCacheBytes == 0 {
		cfg.ResultCacheBytes = DefaultResultCacheBytes
	}
	h := &Handler{cfg: cfg, auth: newAuthorizer(cfg.Auth, cfg.Pipeline), mux: http.NewServeMux(), log: cfg.Logger,
		through: map[string]reflects{}, latest: newLatestCache(cfg.VersionTTL, cfg.Now), cache: newResultCache(cfg.ResultCacheBytes)}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.log = h.log.With("component", "serve")
	// Labels are the route pattern and the status code: both from fixed sets.
	h.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lakectl_serve_http_requests_total", Help: "HTTP requests by route and status code.",
	}, []string{"route", "code"})
	h.results = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lakectl_serve_result_cache_total", Help: "Full loads of a table by whether the result cache held the response (hit, miss).",
	}, []string{"result"})
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(h.requests, h.results, &freshnessCollector{h: h})
	}
	h.route("GET /v1/views/{name}", func(w http.ResponseWriter, r *http.Request) int {
		return h.serveTable(w, r, "views", r.PathValue("name"))
	})
	h.route("GET /v1/gold/{name}", func(w http.ResponseWriter, r *http.Request) int {
		return h.serveTable(w, r, "gold", r.PathValue("name"))
	})
	h.route("GET /v1/status", h.serveStatus)
	h.route("GET /{$}", h.servePage)
	h.route("GET /metrics", h.serveMetrics)
	h.route("GET /healthz", func(w http.ResponseWriter, r *http.Request) int {
		return text(w, http.StatusOK, "ok")
	})
	h.route("GET /readyz", func(w http.ResponseWriter, r *http.Request) int {
		if cfg.Ready != nil {
			if err := cfg.Ready(); err != nil {
				return text(w, http.StatusServiceUnavailable, "not ready: "+err.Error())
			}
		}
		return text(w, http.StatusOK, "ready")
	})
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// route registers f, which returns the status it wrote, counted by pattern.
func (h *Handler) route(pattern string, f func(http.ResponseWriter, *http.Request) int) {
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		code := f(w, r)
		h.requests.WithLabelValues(pattern, strconv.Itoa(code)).Inc()
	})
}

func text(w http.ResponseWriter, code int, msg string) int {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	fmt.Fprintln(w, msg)
	return code
}

// NewServer is an http.Server of h with timeouts on reading headers, on reading a
// request whole (GETs carry no body), on writing a response and on idle keep-alive
// connections, so that slow or stalled clients hold nothing for long.
func NewServer(addr string, h http.Handler, queryTimeout time.Duration) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      max(queryTimeout, 30*time.Second) + 30*time.Second,
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}

// serveTable serves table schema.name: see Handler.
func (h *Handler) serveTable(w http.ResponseWriter, r *http.Request, schema, name string) int {
	table := schema + "." + name
	consumer := ""
	if !h.auth.open() {
		consumer = h.auth.consumer(r)
		if consumer == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="lakectl"`)
			return text(w, http.StatusUnauthorized, "a consumer's token is required (Authorization: Bearer TOKEN)")
		}
		if !h.auth.mayRead(consumer, table) {
			return text(w, http.StatusForbidden, fmt.Sprintf("consumer %s does not declare %s (reads: in lakectl.yaml)", consumer, table))
		}
	}
	root, timeCol, ok := h.table(schema, name)
	if !ok {
		return text(w, http.StatusNotFound, "no table "+table+" served: views/NAME.sql, or a Gold model that a consumer reads")
	}
	format := negotiate(r)
	if format == "" {
		return text(w, http.StatusBadRequest, "?format= is json, csv or parquet")
	}
	q, err := parseTableQuery(r, timeCol)
	if err != nil {
		return text(w, http.StatusBadRequest, err.Error())
	}
	ctx := r.Context()
	tb := lake.NewTable(h.cfg.Store, root)
	snap, err := h.latest.latest(ctx, tb)
	if errors.Is(err, lake.ErrNoTable) {
		return text(w, http.StatusNotFound, table+" has no data yet")
	}
	if err != nil {
		h.log.Error("read table", "table", table, "err", err)
		return text(w, http.StatusInternalServerError, "read "+table+": "+err.Error())
	}
	hd := w.Header()
	etag := fmt.Sprintf(`"v%d"`, snap.Version)
	hd.Set("ETag", etag)
	hd.Set("Last-Modified", snap.Timestamp.UTC().Format(http.TimeFormat))
	hd.Set("Vary", "Accept, Authorization")
	hd.Set("Cache-Control", "no-cache")
	h.freshnessHeaders(ctx, hd, table, snap.Version, consumer)
	if inm := r.Header.Get("If-None-Match"); inm != "" && (inm == etag || inm == "*" || slices.Contains(splitETags(inm), etag)) {
		w.WriteHeader(http.StatusNotModified)
		return http.StatusNotModified
	}
	// The result is built whole before a byte is sent, so that a failing query is a
	// 500 and not a cut-off 200; it is the body of this version for every request
	// that asks the same of it.
	body, hit, err := h.cache.load(ctx, newResultKey(table, snap, format, q), func(ctx context.Context) ([]byte, error) {
		var buf bytes.Buffer
		err := h.queryTable(ctx, &buf, engine.TableName{Schema: schema, Name: name}, tb, snap, timeCol, q, format)
		return buf.Bytes(), err
	})
	switch {
	case err == nil && hit:
		h.results.WithLabelValues("hit").Inc()
	case err == nil:
		h.results.WithLabelValues("miss").Inc()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return text(w, http.StatusServiceUnavailable, fmt.Sprintf("query of %s took longer than %s", table, h.cfg.QueryTimeout))
	}
	if err != nil {
		h.log.Error("query table", "table", table, "err", err)
		return text(w, http.StatusInternalServerError, "query "+table+": "+err.Error())
	}
	hd.Set("Content-Type", mediaTypes[format])
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
	return http.StatusOK
}

// splitETags splits an If-None-Match list.
func splitETags(s string) []string {
	var out []string
	for _, p := range bytes.Split([]byte(s), []byte(",")) {
		out = append(out, string(bytes.TrimSpace(p)))
	}
	return out
}

// table is the lake root and time column of a served table: every view, and the Gold
// tables that some consumer declares.
func (h *Handler) table(schema, name string) (root, timeCol string, ok bool) {
	switch schema {
	case "views":
		if v := h.cfg.Views.View(name); v != nil {
			return v.Root(), v.Time, true
		}
	case "gold":
		m := h.cfg.Models.Model(name)
		for _, c := range h.cfg.Pipeline.Consumers {
			if m != nil && slices.Contains(c.Reads, "gold."+name) {
				return m.Root(), m.Partition, true
			}
		}
	}
	return "", "", false
}

// freshnessHeaders say through which event time the table reflects the events, how
// far behind now that is, and the SLO: the consumer's, or without one the tightest
// of the consumers that read the table.
func (h *Handler) freshnessHeaders(ctx context.Context, hd http.Header, table string, version int64, consumer string) {
	var slo time.Duration
	for _, c := range h.cfg.Pipeline.Consumers {
		if !slices.Contains(c.Reads, table) || (consumer != "" && c.Name != consumer) {
			continue
		}
		if slo == 0 || c.Freshness < slo {
			slo = c.Freshness
		}
	}
	if slo > 0 {
		hd.Set("Lakectl-Freshness-Slo", strconv.FormatFloat(slo.Seconds(), 'f', -1, 64))
	}
	h.throughMu.Lock()
	r, cached := h.through[table]
	h.throughMu.Unlock()
	if !cached || r.version != version {
		t, ok, err := views.ReflectsThrough(ctx, h.cfg.Store, table)
		if err != nil {
			h.log.Warn("read freshness", "table", table, "err", err)
			return
		}
		// A commit after version may already be in the history read; its time then
		// stands for version until a request sees the newer version.
		r = reflects{version: version, t: t, ok: ok}
		h.throughMu.Lock()
		h.through[table] = r
		h.throughMu.Unlock()
	}
	if !r.ok {
		return
	}
	through := r.t
	hd.Set("Lakectl-Reflects-Through", through.UTC().Format(time.RFC3339))
	hd.Set("Lakectl-Freshness", strconv.FormatFloat(h.cfg.Now().Sub(through).Seconds(), 'f', 0, 64))
}

func (h *Handler) serveMetrics(w http.ResponseWriter, r *http.Request) int {
	if !h.auth.metricsAllowed(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="lakectl"`)
		return text(w, http.StatusUnauthorized, "/metrics needs the metrics token (Authorization: Bearer TOKEN)")
	}
	g := h.cfg.Gatherer
	if g == nil {
		g = prometheus.NewRegistry()
	}
	promhttp.HandlerFor(g, promhttp.HandlerOpts{}).ServeHTTP(w, r)
	return http.StatusOK
}

// Status is GET /v1/status.
type Status struct {
	Tasks     []TaskStatus               `json:"tasks"`
	Views     []views.ViewStatus         `json:"views"`
	Consumers []views.ConsumerStatus     `json:"consumers"`
	StaleDays map[string][]gold.StaleDay `json:"stale_days"`
}

// status reads the views' refreshes, the consumers' freshness and Gold's stale days.
func (h *Handler) status(ctx context.Context) (Status, error) {
	var st Status
	if h.cfg.Scheduler != nil {
		st.Tasks = h.cfg.Scheduler.Status()
	}
	var err error
	st.Views, st.Consumers, err = views.Status(ctx, h.cfg.Store, h.cfg.Pipeline, h.cfg.Views, h.cfg.Now())
	if err != nil {
		return st, err
	}
	st.StaleDays = map[string][]gold.StaleDay{}
	if h.cfg.Gold != nil && h.cfg.Models != nil {
		for _, m := range h.cfg.Models.Order {
			days, err := h.cfg.Gold.Stale(ctx, m.Name)
			if err != nil {
				return st, err
			}
			st.StaleDays[m.Name] = days
		}
	}
	return st, nil
}

func (h *Handler) serveStatus(w http.ResponseWriter, r *http.Request) int {
	if !h.auth.open() && h.auth.consumer(r) == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="lakectl"`)
		return text(w, http.StatusUnauthorized, "a consumer's token is required (Authorization: Bearer TOKEN)")
	}
	st, err := h.status(r.Context())
	if err != nil {
		return text(w, http.StatusInternalServerError, "status: "+err.Error())
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(st)
	return http.StatusOK
}

// freshnessCollector reports each consumer's freshness and SLO at scrape time; the
// consumer label's values come from lakectl.yaml.
type freshnessCollector struct{ h *Handler }

var (
	freshnessDesc = prometheus.NewDesc("lakectl_serve_consumer_freshness_seconds",
		"How far behind now, by event time, the stalest table a consumer reads reflects the events.", []string{"consumer"}, nil)
	sloDesc = prometheus.NewDesc("lakectl_serve_consumer_slo_seconds",
		"A consumer's freshness SLO.", []string{"consumer"}, nil)
)

func (c *freshnessCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- freshnessDesc
	ch <- sloDesc
}

func (c *freshnessCollector) Collect(ch chan<- prometheus.Metric) {
	// A scrape brings no context; the query timeout bounds the reads of the logs.
	ctx, cancel := context.WithTimeout(context.Background(), c.h.cfg.QueryTimeout)
	defer cancel()
	_, consumers, err := views.Status(ctx, c.h.cfg.Store, c.h.cfg.Pipeline, c.h.cfg.Views, c.h.cfg.Now())
	if err != nil {
		ch <- prometheus.NewInvalidMetric(freshnessDesc, err)
		return
	}
	for _, cs := range consumers {
		ch <- prometheus.MustNewConstMetric(sloDesc, prometheus.GaugeValue, cs.SLO.Seconds(), cs.Name)
		if cs.Level != views.LevelUnknown {
			ch <- prometheus.MustNewConstMetric(freshnessDesc, prometheus.GaugeValue, cs.Freshness.Seconds(), cs.Name)
		}
	}
}
