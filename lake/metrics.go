package lake

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts store operations by backend, operation and outcome, times them, and
// counts the bytes moved. Build it once per registry with NewMetrics and wrap each
// store with Wrap:
//
//	m := lake.NewMetrics(reg)
//	store = m.Wrap(store, "s3")
type Metrics struct {
	ops      *prometheus.CounterVec
	duration *prometheus.HistogramVec
	bytes    *prometheus.CounterVec
}

// Outcomes, the values of the "outcome" label.
const (
	outcomeOK       = "ok"
	outcomeNotFound = "not_found"
	outcomeExists   = "exists"
	outcomeCanceled = "canceled"
	outcomeRetry    = "transient" // failed, but worth retrying
	outcomeError    = "error"
)

// NewMetrics builds the store metrics and registers them on reg. If reg already holds
// them (a second store in the same process), the registered collectors are shared, so
// calling NewMetrics twice with one registry is fine. A nil reg registers nothing.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		ops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "lakectl", Subsystem: "store", Name: "operations_total",
			Help: "Object store operations by backend, operation and outcome.",
		}, []string{"backend", "operation", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "lakectl", Subsystem: "store", Name: "operation_duration_seconds",
			Help:    "Latency of object store operations (for reads: until the object is open).",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 8), // 1ms .. 16s
		}, []string{"backend", "operation"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "lakectl", Subsystem: "store", Name: "bytes_total",
			Help: "Bytes read from and written to the object store.",
		}, []string{"backend", "direction"}),
	}
	if reg != nil {
		m.ops = register(reg, m.ops)
		m.duration = register(reg, m.duration)
		m.bytes = register(reg, m.bytes)
	}
	return m
}

// register registers c, or returns the equal collector that reg already holds.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		// A different collector under the same name is a programming error.
		panic(err)
	}
	return c
}

// Wrap returns s instrumented under the backend label (e.g. "s3", "file"). If s is a
// LocalStore, so is the result.
func (m *Metrics) Wrap(s Store, backend string) Store {
	ms := &metricStore{next: s, m: m, backend: backend}
	if ls, ok := s.(LocalStore); ok {
		return &localMetricStore{metricStore: ms, local: ls}
	}
	return ms
}

type metricStore struct {
	next    Store
	m       *Metrics
	backend string
}

type localMetricStore struct {
	*metricStore
	local LocalStore
}

func (s *localMetricStore) LocalPath(key string) string { return s.local.LocalPath(key) }

func outcome(err error) string {
	switch {
	case err == nil:
		return outcomeOK
	case errors.Is(err, fs.ErrNotExist):
		return outcomeNotFound
	case errors.Is(err, ErrExists):
		return outcomeExists
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return outcomeCanceled
	case IsTransient(err):
		return outcomeRetry
	default:
		return outcomeError
	}
}

func (s *metricStore) observe(op string, start time.Time, err error) {
	s.m.ops.WithLabelValues(s.backend, op, outcome(err)).Inc()
	s.m.duration.WithLabelValues(s.backend, op).Observe(time.Since(start).Seconds())
}

func (s *metricStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	start := time.Now()
	rc, err := s.next.Get(ctx, key)
	s.observe("get", start, err)
	if err != nil {
		return nil, err
	}
	return s.countReads(rc), nil
}

func (s *metricStore) GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	start := time.Now()
	rc, err := s.next.GetRange(ctx, key, offset, length)
	s.observe("get_range", start, err)
	if err != nil {
		return nil, err
	}
	return s.countReads(rc), nil
}

func (s *metricStore) countReads(rc io.ReadCloser) io.ReadCloser {
	return &countingReader{ReadCloser: rc, counter: s.m.bytes.WithLabelValues(s.backend, "read")}
}

func (s *metricStore) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	start := time.Now()
	cr := &countingReader{ReadCloser: io.NopCloser(r), counter: s.m.bytes.WithLabelValues(s.backend, "write")}
	var body io.Reader = cr
	if seeker, ok := r.(io.Seeker); ok {
		// Keep the reader seekable so that a retry decorator below can rewind it.
		body = struct {
			io.Reader
			io.Seeker
		}{cr, seeker}
	}
	err := s.next.Put(ctx, key, body, size)
	s.observe("put", start, err)
	return err
}

func (s *metricStore) PutIfAbsent(ctx context.Context, key string, data []byte) error {
	start := time.Now()
	err := s.next.PutIfAbsent(ctx, key, data)
	s.observe("put_if_absent", start, err)
	if err == nil {
		s.m.bytes.WithLabelValues(s.backend, "write").Add(float64(len(data)))
	}
	return err
}

func (s *metricStore) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	start := time.Now()
	info, err := s.next.Stat(ctx, key)
	s.observe("stat", start, err)
	return info, err
}

func (s *metricStore) List(ctx context.Context, prefix, startAfter string) ([]ObjectInfo, error) {
	start := time.Now()
	infos, err := s.next.List(ctx, prefix, startAfter)
	s.observe("list", start, err)
	return infos, err
}

func (s *metricStore) Delete(ctx context.Context, key string) error {
	start := time.Now()
	err := s.next.Delete(ctx, key)
	s.observe("delete", start, err)
	return err
}

// countingReader adds the bytes that pass through it to a counter.
type countingReader struct {
	io.ReadCloser
	counter prometheus.Counter
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	if n > 0 {
		r.counter.Add(float64(n))
	}
	return n, err
}
