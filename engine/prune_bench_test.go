package engine

import (
	"testing"
	"time"

	"github.com/lakectl/lakectl/engine/sqlfrag"
	"github.com/lakectl/lakectl/internal/s3server"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/cache"
)

// Shape of the month in BenchmarkOneDayOnMinIO: 30 days of hourly files.
const (
	benchDays        = 30
	benchFilesPerDay = 24
	benchFileRows    = 20_000
)

// benchHourRows are the rows of one hourly file: day $1, hour $2, $3 rows.
const benchHourRows = `
SELECT DATE '2026-11-01' + CAST($1 AS INTEGER) AS day,
       CAST($2 AS INTEGER) AS hour,
       CAST($1 AS BIGINT) * 1000000 + $2 * 100000 + i AS id,
       CAST(random() * 1000 AS DECIMAL(18,2)) AS amount,
       'user-' || (i % 5000) AS user_id,
       TIMESTAMP '2026-11-01 00:00:00' + (CAST($1 AS INTEGER) * 24 + CAST($2 AS INTEGER)) * INTERVAL 1 HOUR + i * INTERVAL 100 MILLISECOND AS ts
FROM range($3) AS r(i)`

// BenchmarkOneDayOnMinIO: a one-day query over a 30-day table on MinIO, the way
// lakectl query runs it (parse, prune with the log, fetch the day's files into the
// cache, register, query), cold (empty cache) and warm (the day's files cached),
// against the same aggregate by read_parquet over that day's files already local.
// It reports the files and bytes fetched and the ratios cold/raw and warm/raw.
func BenchmarkOneDayOnMinIO(b *testing.B) {
	ctx := b.Context()
	srv := s3server.Start(b, s3server.MinIO)
	store := srv.Store(b)
	setup, err := Open(ctx, Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer setup.Close()
	schema, err := setup.QuerySchema(ctx, benchHourRows, 0, 0, 1)
	if err != nil {
		b.Fatal(err)
	}
	ss, _ := schema.JSON()
	table := lake.NewTable(store, "silver/events", lake.WithCheckpointInterval(0))
	tx := table.Begin(nil)
	tx.SetMetadata(lake.Metadata{SchemaString: ss, PartitionColumns: []string{"day", "hour"}})
	if _, err := tx.Commit(ctx); err != nil {
		b.Fatal(err)
	}
	for day := range benchDays {
		var adds []lake.Add
		for hour := range benchFilesPerDay {
			a, err := setup.WriteFiles(ctx, table, []string{"day", "hour"}, benchHourRows, day, hour, benchFileRows)
			if err != nil {
				b.Fatal(err)
			}
			adds = append(adds, a...)
		}
		snap, err := table.Latest(ctx)
		if err != nil {
			b.Fatal(err)
		}
		tx := table.Begin(snap)
		tx.Add(adds...)
		if _, err := tx.Commit(ctx); err != nil {
			b.Fatal(err)
		}
	}
	snap, err := table.Latest(ctx)
	if err != nil {
		b.Fatal(err)
	}

	const (
		agg  = "SELECT count(*), sum(amount), count(DISTINCT user_id), max(ts) FROM "
		user = agg + "silver.events WHERE day = '2026-11-17'"
	)
	name := TableName{Schema: "silver", Name: "events"}
	var fetchedFiles, fetchedBytes int64
	// query runs user as lakectl query does, with the cache c, and returns the time.
	query := func(c *cache.Cache) time.Duration {
		start := time.Now()
		s, err := Open(ctx, Config{})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		q, err := s.ParseUserSQL(ctx, user)
		if err != nil {
			b.Fatal(err)
		}
		kept, rep, err := s.Prune(ctx, q, name, snap, snap.Files())
		if err != nil {
			b.Fatal(err)
		}
		before := c.Stats()
		if err := s.RegisterFiles(ctx, "silver", "events", snap, kept, TableFiles(table, c)); err != nil {
			b.Fatal(err)
		}
		if after := c.Stats(); after.Downloads > before.Downloads {
			fetchedFiles, fetchedBytes = after.Downloads-before.Downloads, after.DownloadedBytes-before.DownloadedBytes
			if rep.KeptFiles != int(fetchedFiles) {
				b.Fatalf("fetched %d files, pruning kept %d", fetchedFiles, rep.KeptFiles)
			}
		}
		if err := s.Seal(ctx, SealOptions{}); err != nil {
			b.Fatal(err)
		}
		rows, err := s.QueryUser(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		checkAggregate(b, rows.Next(), rows.Scan)
		rows.Close()
		return time.Since(start)
	}

	// The baseline: the day's files already on the local disk, read by read_parquet.
	local := cache.New(store, b.TempDir(), 0)
	query(local)
	var paths []string
	for _, a := range snap.Files() {
		if v := a.PartitionValues["day"]; v != nil && *v == "2026-11-17" {
			p, err := local.Path(ctx, table.Key(a.DecodedPath()))
			if err != nil {
				b.Fatal(err)
			}
			paths = append(paths, p)
		}
	}
	raw := func() time.Duration {
		start := time.Now()
		s, err := Open(ctx, Config{})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		rows, err := s.QueryContext(ctx, agg+"read_parquet("+sqlfrag.StrList(paths).String()+")")
		if err != nil {
			b.Fatal(err)
		}
		checkAggregate(b, rows.Next(), rows.Scan)
		rows.Close()
		return time.Since(start)
	}

	var cold, warm, rawTime time.Duration
	for b.Loop() {
		cold += query(cache.New(store, b.TempDir(), 0))
		warm += query(local)
		rawTime += raw()
	}
	n := float64(b.N)
	b.ReportMetric(float64(len(snap.Files())), "files")
	b.ReportMetric(float64(fetchedFiles), "fetched-files")
	b.ReportMetric(float64(fetchedBytes), "fetched-bytes")
	b.ReportMetric(float64(cold.Nanoseconds())/n, "cold-ns/op")
	b.ReportMetric(float64(warm.Nanoseconds())/n, "warm-ns/op")
	b.ReportMetric(float64(rawTime.Nanoseconds())/n, "raw-ns/op")
	b.ReportMetric(float64(cold)/float64(rawTime), "cold/raw")
	b.ReportMetric(float64(warm)/float64(rawTime), "warm/raw")
}

// checkAggregate checks that the one-day aggregate has the day's rows.
func checkAggregate(b *testing.B, next bool, scan func(...any) error) {
	b.Helper()
	var n, users int64
	var sum any
	var maxTS time.Time
	if !next {
		b.Fatal("no row")
	}
	if err := scan(&n, &sum, &users, &maxTS); err != nil {
		b.Fatal(err)
	}
	if n != benchFilesPerDay*benchFileRows {
		b.Fatalf("%d rows in a day, want %d", n, benchFilesPerDay*benchFileRows)
	}
}
