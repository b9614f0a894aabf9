package serve

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// schedulerMetrics are the task metrics; the task label's values are the task names,
// which come from the pipeline.
type schedulerMetrics struct {
	duration *prometheus.HistogramVec
	failures *prometheus.CounterVec
	runs     *prometheus.CounterVec
	rows     *prometheus.CounterVec
}

func newSchedulerMetrics(reg prometheus.Registerer) *schedulerMetrics {
	m := &schedulerMetrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "lakectl_serve_task_duration_seconds", Help: "Duration of task runs.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 14),
		}, []string{"task"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lakectl_serve_task_failures_total", Help: "Task runs that failed.",
		}, []string{"task"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lakectl_serve_task_runs_total", Help: "Task runs, failed or not.",
		}, []string{"task"}),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lakectl_serve_task_rows_total", Help: "Rows the task runs wrote.",
		}, []string{"task"}),
	}
	if reg != nil {
		reg.MustRegister(m.duration, m.failures, m.runs, m.rows)
	}
	return m
}

func (m *schedulerMetrics) observe(task string, d time.Duration, rows int64, err error) {
	m.duration.WithLabelValues(task).Observe(d.Seconds())
	m.runs.WithLabelValues(task).Inc()
	m.rows.WithLabelValues(task).Add(float64(max(rows, 0)))
	if err != nil {
		m.failures.WithLabelValues(task).Inc()
	}
}
