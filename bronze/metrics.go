package bronze

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the Prometheus metrics of the ingest service, registered on the
// Registerer given in Config.
type Metrics struct {
	Records       *prometheus.CounterVec   // records in, by stream and source
	Bytes         *prometheus.CounterVec   // payload+key+header bytes in, by stream and source
	Files         *prometheus.CounterVec   // data files committed, by stream
	FileBytes     *prometheus.CounterVec   // Parquet bytes committed, by stream
	Commits       *prometheus.CounterVec   // Delta commits, by stream
	CommitErrors  *prometheus.CounterVec   // failed commit attempts (retried), by stream
	CommitSeconds *prometheus.HistogramVec // upload-to-commit latency, by stream
	Lost          *prometheus.CounterVec   // partitions whose files a zombie check dropped
	Lag           *prometheus.GaugeVec     // records behind the high watermark, by topic and partition
	SealedMark    *prometheus.GaugeVec     // sealing mark (unix seconds), by stream and appId
	HTTPRequests  *prometheus.CounterVec   // HTTP ingest requests, by stream and code
	// HTTPDuplicates counts keyed HTTP requests acknowledged without writing because
	// their producer's batch was already committed (a retry), by stream.
	HTTPDuplicates *prometheus.CounterVec
	// Compactions counts compaction commits, CompactedFiles the small files they
	// replaced, by stream.
	Compactions    *prometheus.CounterVec
	CompactedFiles *prometheus.CounterVec
}

// NewMetrics creates the metrics and registers them on reg (nil: not registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lakectl_bronze_records_total", Help: "Records received for Bronze.",
		}, []string{"stream", "source"}),
		Bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lakectl_bronze_bytes_total", Help: "Record bytes (payload, key, headers) received for Bronze.",
		}, []string{"stream", "source"}),
		Files: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lakectl_bronze_files_total", Help: "Data files committed to Bronze.",
		}, []string{"stream"}),
		FileBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lakectl_bronze_file_bytes_total", Help: "Parquet bytes committed to Bronze.",
		}, []string{"stream"}),
		Commits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lakectl_bronze_commits_total", Help: "Delta commits to Bronze.",
		}, []string{"stream"}),
		CommitErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lakectl_bronze_commit_errors_total", Help: "Failed Bronze commit attempts (they are retried).",
		}, []string{"stream"}),
		CommitSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "lakectl_bronze_commit_seconds", Help: "Time from the end of upload to a successful Bronze commit.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
		}, []string{"stream"}),
		Lost: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lakectl_bronze_partitions_lost_total", Help: "Flushes dropped because another writer owned the partition.",
		}, []string{"stream"}),
		Lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "lakectl_bronze_kafka_lag_records", Help: "Records between the last ingested offset and the high watermark.",
		}, []string{"topic", "partition"}),
		SealedMark: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "lakectl_bronze_sealed_mark_seconds", Help: "Sealing mark: ingest time before which every record is committed.",
		}, []string{"stream", "app_id"}),
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lakectl_bronze_http_requests_total", Help: "HTTP ingest requests by response code.",
		}, []string{"stream", "code"}),
		HTTPDuplicates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lakectl_bronze_http_duplicate_requests_total",
			Help: "HTTP ingest requests acknowledged without writing: their producer's batch was already committed.",
		}, []string{"stream"}),
		Compactions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lakectl_bronze_compactions_total", Help: "Compaction commits of sealed Bronze hours.",
		}, []string{"stream"}),
		CompactedFiles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lakectl_bronze_compacted_files_total", Help: "Small Bronze files replaced by compaction.",
		}, []string{"stream"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.Records, m.Bytes, m.Files, m.FileBytes, m.Commits,
			m.CommitErrors, m.CommitSeconds, m.Lost, m.Lag, m.SealedMark, m.HTTPRequests, m.HTTPDuplicates, m.Compactions, m.CompactedFiles} {
			reg.MustRegister(c)
		}
	}
	return m
}

func (m *Metrics) commitDone(stream string, d time.Duration, files []*dataFile) {
	m.Commits.WithLabelValues(stream).Inc()
	m.CommitSeconds.WithLabelValues(stream).Observe(d.Seconds())
	m.Files.WithLabelValues(stream).Add(float64(len(files)))
	var n int64
	for _, f := range files {
		n += f.Size
	}
	m.FileBytes.WithLabelValues(stream).Add(float64(n))
}
