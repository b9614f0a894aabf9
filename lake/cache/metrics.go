package cache

import "github.com/prometheus/client_golang/prometheus"

// metrics are the cache's Prometheus instruments. With a nil Registerer they are created
// but not registered, so the code that counts never checks.
type metrics struct {
	hits       prometheus.Counter
	misses     prometheus.Counter
	evictions  prometheus.Counter
	downloaded prometheus.Counter
	bytes      prometheus.Gauge
}

func newMetrics(r prometheus.Registerer) *metrics {
	m := &metrics{
		hits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lakectl_cache_hits_total", Help: "Requests served from a cached file.",
		}),
		misses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lakectl_cache_misses_total", Help: "Requests that needed a download.",
		}),
		evictions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lakectl_cache_evictions_total", Help: "Files removed to stay under the size bound.",
		}),
		downloaded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lakectl_cache_downloaded_bytes_total", Help: "Bytes downloaded from the store.",
		}),
		bytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lakectl_cache_bytes", Help: "Bytes held in the cache directory.",
		}),
	}
	if r != nil {
		r.MustRegister(m.hits, m.misses, m.evictions, m.downloaded, m.bytes)
	}
	return m
}
