package silver

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the Silver job's Prometheus metrics, registered on the Registerer given
// in Config (none when it is nil).
type Metrics struct {
	runs     *prometheus.CounterVec   // by table and outcome (done, skipped, empty, error)
	rows     *prometheus.CounterVec   // by table and fate (in, valid, quarantined, duplicate, late)
	duration *prometheus.HistogramVec // seconds per run, by table
}

// NewMetrics builds the metrics and registers them on reg, if not nil.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "lakectl", Subsystem: "silver", Name: "runs_total",
			Help: "Silver hour runs by outcome: done, skipped (already processed), empty (no Bronze data in the hour) or error.",
		}, []string{"table", "outcome"}),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "lakectl", Subsystem: "silver", Name: "rows_total",
			Help: "Rows seen by Silver runs, by fate: in, valid, quarantined, duplicate, late.",
		}, []string{"table", "fate"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "lakectl", Subsystem: "silver", Name: "run_duration_seconds",
			Help:    "Wall time of Silver hour runs that did work.",
			Buckets: prometheus.ExponentialBuckets(0.1, 2, 12),
		}, []string{"table"}),
	}
	if reg != nil {
		reg.MustRegister(m.runs, m.rows, m.duration)
	}
	return m
}

func (m *Metrics) observe(s Summary) {
	if s.Skipped {
		m.runs.WithLabelValues(s.Table, "skipped").Inc()
		return
	}
	if s.Empty {
		m.runs.WithLabelValues(s.Table, "empty").Inc()
		return
	}
	m.runs.WithLabelValues(s.Table, "done").Inc()
	m.duration.WithLabelValues(s.Table).Observe(time.Duration(s.Duration).Seconds())
	for fate, n := range map[string]int64{"in": s.RowsIn, "valid": s.Valid, "quarantined": s.Quarantined, "duplicate": s.Duplicates, "late": s.Late} {
		m.rows.WithLabelValues(s.Table, fate).Add(float64(n))
	}
}
