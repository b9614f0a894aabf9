package engine

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lakectl/lakectl/engine/sqlfrag"
	"github.com/lakectl/lakectl/internal/s3server"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/cache"
	"github.com/lakectl/lakectl/lake/mem"
)

// Shape of the month in BenchmarkOneDayOnMinIO: 30 days of hourly files, every day
// small but one, whose files are of the size an hourly Silver job writes.
const (
	benchDays        = 30
	benchFilesPerDay = 24
	benchFileRows    = 20_000  // a small day's hourly file: about 130 kB
	benchBigFileRows = 150_000 // the big day's: several MB, 3.6 M rows a day
	benchBigDay      = 18      // 2026-11-19
	benchReps        = 15      // runs of each measurement, of which the median counts
)

// benchHourRows are the rows of one hourly file: day $1, hour $2, $3 rows, and a
// payload of 32 random hex characters a row if $4.
const benchHourRows = `
SELECT DATE '2026-11-01' + CAST($1 AS INTEGER) AS day,
       CAST($2 AS INTEGER) AS hour,
       CAST($1 AS BIGINT) * 1000000 + $2 * 100000 + i AS id,
       CAST(random() * 1000 AS DECIMAL(18,2)) AS amount,
       'user-' || (i % 5000) AS user_id,
       TIMESTAMP '2026-11-01 00:00:00' + (CAST($1 AS INTEGER) * 24 + CAST($2 AS INTEGER)) * INTERVAL 1 HOUR + i * INTERVAL 10 MILLISECOND AS ts,
       CASE WHEN $4 THEN md5(CAST(random() AS VARCHAR)) END AS payload
FROM range($3) AS r(i)`

// BenchmarkOneDayOnMinIO: a one-day query over a 30-day table on MinIO, the way
// lakectl query runs it (parse, prune with the log, fetch the day's files into the
// cache, register, query), cold (empty cache) and warm (the day's files cached),
// against the same aggregate by read_parquet over that day's files already local. It
// runs a small day (24 files of 20,000 rows, where the fixed cost of a query shows)
// and a big one (24 files of several MB, 3.6 M rows), and reports for each the files
// and bytes fetched, the ratios cold/raw and warm/raw, and logs where the time of a
// query goes. Each of benchReps rounds measures a cold query, then the baseline and a
// warm query (which first alternates), and a ratio is the median of the rounds'
// ratios: a query and its baseline run a moment apart, on a machine whose speed
// drifts over a run.
func BenchmarkOneDayOnMinIO(b *testing.B) {
	ctx := b.Context()
	srv := s3server.Start(b, s3server.MinIO)
	store := srv.Store(b)
	setup, err := Open(ctx, Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer setup.Close()
	table := lake.NewTable(store, "silver/events", lake.WithCheckpointInterval(0))
	tx := table.Begin(nil)
	tx.SetMetadata(benchMetadata(b, setup))
	if _, err := tx.Commit(ctx); err != nil {
		b.Fatal(err)
	}
	for day := range benchDays {
		var adds []lake.Add
		for hour := range benchFilesPerDay {
			rows, big := benchFileRows, day == benchBigDay
			if big {
				rows = benchBigFileRows
			}
			a, err := setup.WriteFiles(ctx, table, []string{"day", "hour"}, benchHourRows, day, hour, rows, big)
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
	b.ReportMetric(float64(snap.NumFiles()), "files")
	// Not in the query's time below, which starts from the snapshot: what a new process
	// pays first to read the table's log (31 commits, no checkpoint) from MinIO, and
	// with the commits in its cache (cache.LogStore) from an earlier one.
	logDir := b.TempDir()
	loadLog := func(s lake.Store) time.Duration {
		start := time.Now()
		if _, err := lake.NewTable(s, "silver/events").Latest(ctx); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	loadLog(cache.New(store, logDir, 0).LogStore())
	var loads, cachedLoads []time.Duration
	for range benchReps {
		loads = append(loads, loadLog(store))
		cachedLoads = append(cachedLoads, loadLog(cache.New(store, logDir, 0).LogStore()))
	}
	logLoad := median(loads, func(d time.Duration) time.Duration { return d })
	cachedLoad := median(cachedLoads, func(d time.Duration) time.Duration { return d })
	b.ReportMetric(float64(logLoad.Nanoseconds()), "log-load-ns")
	b.ReportMetric(float64(cachedLoad.Nanoseconds()), "log-load-cached-ns")
	b.Logf("reading the log of 31 commits and 720 files from MinIO: %v; with the commits cached: %v", ms(logLoad), ms(cachedLoad))
	// The cache of an analyst who has queried the month before: every file is in it.
	warmDir := b.TempDir()
	warm := cache.New(table.Store(), warmDir, 0)
	if _, release, err := resolveAll(ctx, snap.Files(), TableFiles(table, warm), nil); err != nil {
		b.Fatal(err)
	} else {
		release()
	}
	for _, day := range []struct {
		name string
		day  int
		rows int64
	}{
		{"small", 16, benchFilesPerDay * benchFileRows},
		{"big", benchBigDay, benchFilesPerDay * benchBigFileRows},
	} {
		benchOneDay(b, table, snap, warmDir, day.name, time.Date(2026, 11, 1+day.day, 0, 0, 0, 0, time.UTC).Format(time.DateOnly), day.rows)
	}
}

// benchMetadata is the metadata of the month's table: benchHourRows by day and hour.
func benchMetadata(b *testing.B, s *Session) lake.Metadata {
	schema, err := s.QuerySchema(b.Context(), benchHourRows, 0, 0, 1, false)
	if err != nil {
		b.Fatal(err)
	}
	ss, err := schema.JSON()
	if err != nil {
		b.Fatal(err)
	}
	return lake.Metadata{SchemaString: ss, PartitionColumns: []string{"day", "hour"}}
}

// queryPhases are where the time of one query goes.
type queryPhases struct {
	total, open, parse, prune, fetch, register, seal, query time.Duration
	downloads                                               int64
}

// benchOneDay measures the query of one day (YYYY-MM-DD) of table, which holds rows
// rows, with metrics named after name. A warm query is a new process's: a new Cache
// over warmDir, which holds every file of the table.
func benchOneDay(b *testing.B, table *lake.Table, snap *lake.Snapshot, warmDir, name, day string, rows int64) {
	ctx := b.Context()
	const agg = "SELECT count(*), sum(amount), count(DISTINCT user_id), max(ts) FROM "
	user := agg + "silver.events WHERE day = '" + day + "'"
	tname := TableName{Schema: "silver", Name: "events"}
	var fetchedFiles, fetchedBytes int64
	// query runs user as lakectl query does, with the cache c.
	query := func(c *cache.Cache) queryPhases {
		var p queryPhases
		start := time.Now()
		lap := func(d *time.Duration) {
			now := time.Now()
			*d = now.Sub(start) - p.total
			p.total = now.Sub(start)
		}
		s, err := Open(ctx, Config{})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		lap(&p.open)
		q, err := s.ParseUserSQL(ctx, user)
		if err != nil {
			b.Fatal(err)
		}
		lap(&p.parse)
		kept, rep, err := s.Prune(ctx, q, tname, snap, snap.Files())
		if err != nil {
			b.Fatal(err)
		}
		lap(&p.prune)
		before := c.Stats()
		files := &timedFiles{FileResolver: TableFiles(table, c)}
		if err := s.RegisterFiles(ctx, "silver", "events", snap, kept, files); err != nil {
			b.Fatal(err)
		}
		lap(&p.register)
		p.fetch = files.span()
		p.downloads = c.Stats().Downloads - before.Downloads
		if after := c.Stats(); after.Downloads > before.Downloads {
			fetchedFiles, fetchedBytes = after.Downloads-before.Downloads, after.DownloadedBytes-before.DownloadedBytes
			if rep.KeptFiles != int(fetchedFiles) {
				b.Fatalf("fetched %d files, pruning kept %d", fetchedFiles, rep.KeptFiles)
			}
		}
		if err := s.Seal(ctx, SealOptions{}); err != nil {
			b.Fatal(err)
		}
		lap(&p.seal)
		r, err := s.QueryUser(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		checkAggregate(b, r, rows)
		r.Close()
		lap(&p.query)
		return p
	}

	// The baseline: the day's files already on the local disk, read by read_parquet.
	local := cache.New(table.Store(), warmDir, 0)
	var paths []string
	for _, a := range snap.Files() {
		if v := a.PartitionValues["day"]; v != nil && *v == day {
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
		r, err := s.QueryContext(ctx, agg+"read_parquet("+sqlfrag.StrList(paths).String()+")")
		if err != nil {
			b.Fatal(err)
		}
		checkAggregate(b, r, rows)
		r.Close()
		return time.Since(start)
	}

	var cold, warm []queryPhases
	var rawTimes []time.Duration
	for i := range benchReps {
		cold = append(cold, query(cache.New(table.Store(), b.TempDir(), 0)))
		// Each goes first in turn: what a cold query leaves (pages to write back)
		// weighs on what follows it.
		if i%2 == 0 {
			rawTimes = append(rawTimes, raw())
			warm = append(warm, query(cache.New(table.Store(), warmDir, 0)))
		} else {
			warm = append(warm, query(cache.New(table.Store(), warmDir, 0)))
			rawTimes = append(rawTimes, raw())
		}
	}
	for _, w := range warm {
		if w.downloads != 0 {
			b.Fatalf("a warm query downloaded %d files", w.downloads)
		}
	}
	rawTime := median(rawTimes, func(d time.Duration) time.Duration { return d })
	b.ReportMetric(float64(fetchedFiles), name+"-fetched-files")
	b.ReportMetric(float64(fetchedBytes), name+"-fetched-bytes")
	b.ReportMetric(float64(rawTime.Nanoseconds()), name+"-raw-ns")
	for _, run := range []struct {
		kind   string
		phases []queryPhases
	}{{"cold", cold}, {"warm", warm}} {
		m := func(f func(queryPhases) time.Duration) time.Duration { return median(run.phases, f) }
		total := m(func(p queryPhases) time.Duration { return p.total })
		ratios := make([]float64, len(run.phases))
		for i, p := range run.phases {
			ratios[i] = float64(p.total) / float64(rawTimes[i])
		}
		slices.Sort(ratios)
		b.ReportMetric(float64(total.Nanoseconds()), name+"-"+run.kind+"-ns")
		b.ReportMetric(ratios[len(ratios)/2], name+"-"+run.kind+"/raw")
		b.Logf("%s day, %s: %d files, %d bytes fetched; %.2f × read_parquet; %v (read_parquet %v): open %v, parse %v, prune %v, register %v (fetching %v), seal %v, query %v",
			name, run.kind, fetchedFiles, fetchedBytes, ratios[len(ratios)/2], ms(total), ms(rawTime), ms(m(func(p queryPhases) time.Duration { return p.open })),
			ms(m(func(p queryPhases) time.Duration { return p.parse })), ms(m(func(p queryPhases) time.Duration { return p.prune })),
			ms(m(func(p queryPhases) time.Duration { return p.register })), ms(m(func(p queryPhases) time.Duration { return p.fetch })),
			ms(m(func(p queryPhases) time.Duration { return p.seal })), ms(m(func(p queryPhases) time.Duration { return p.query })))
	}
}

// median is the median of f over xs.
func median[T any](xs []T, f func(T) time.Duration) time.Duration {
	ds := make([]time.Duration, len(xs))
	for i, x := range xs {
		ds[i] = f(x)
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}

func ms(d time.Duration) string { return d.Round(10 * time.Microsecond).String() }

// timedFiles is a FileResolver that times from its first call's start to its last
// call's end: how long the files took to be fetched.
type timedFiles struct {
	FileResolver
	mu          sync.Mutex
	first, last time.Time
}

func (t *timedFiles) LocalFile(ctx context.Context, add lake.Add) (string, func(), error) {
	start := time.Now()
	p, release, err := t.FileResolver.LocalFile(ctx, add)
	end := time.Now()
	t.mu.Lock()
	if t.first.IsZero() || start.Before(t.first) {
		t.first = start
	}
	if end.After(t.last) {
		t.last = end
	}
	t.mu.Unlock()
	return p, release, err
}

func (t *timedFiles) span() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last.Sub(t.first)
}

// checkAggregate checks that the one-day aggregate has the day's rows.
func checkAggregate(b *testing.B, r *sql.Rows, want int64) {
	b.Helper()
	var n, users int64
	var sum any
	var maxTS time.Time
	if !r.Next() {
		b.Fatal("no row")
	}
	if err := r.Scan(&n, &sum, &users, &maxTS); err != nil {
		b.Fatal(err)
	}
	if n != want {
		b.Fatalf("%d rows in a day, want %d", n, want)
	}
}

// BenchmarkPrune720 prunes a month of hourly files (the log alone: no file is
// written) for a day, by its partition, and for an id range, by statistics.
func BenchmarkPrune720(b *testing.B) {
	ctx := b.Context()
	s, err := Open(ctx, Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	table := lake.NewTable(mem.New(), "silver/events")
	tx := table.Begin(nil)
	tx.SetMetadata(benchMetadata(b, s))
	for d := range benchDays {
		for h := range benchFilesPerDay {
			day, hour := time.Date(2026, 11, 1+d, 0, 0, 0, 0, time.UTC).Format(time.DateOnly), fmt.Sprint(h)
			id := int64(d)*1_000_000 + int64(h)*100_000
			tx.Add(lake.Add{
				Path:            lake.DataFilePath([]string{"day", "hour"}, map[string]*string{"day": &day, "hour": &hour}, "f.parquet"),
				PartitionValues: map[string]*string{"day": &day, "hour": &hour},
				Size:            130_000, DataChange: true,
				Stats: fmt.Sprintf(`{"numRecords":20000,"minValues":{"id":%d,"amount":0.00,"user_id":"user-0","ts":"%sT%02d:00:00.000000Z"},`+
					`"maxValues":{"id":%d,"amount":999.99,"user_id":"user-999","ts":"%sT%02d:33:19.990000Z"},"nullCount":{"id":0,"amount":0,"user_id":0,"ts":0,"payload":20000}}`,
					id, day, h, id+19_999, day, h),
			})
		}
	}
	if _, err := tx.Commit(ctx); err != nil {
		b.Fatal(err)
	}
	snap, err := table.Latest(ctx)
	if err != nil {
		b.Fatal(err)
	}
	adds := snap.Files()
	for _, c := range []struct {
		name, sql string
		kept      int
	}{
		{"partition", "SELECT count(*) FROM silver.events WHERE day = '2026-11-17'", benchFilesPerDay},
		// Ids of hours 10 and 20 of the days before overlap the range.
		{"stats", "SELECT count(*) FROM silver.events WHERE id BETWEEN 16000000 AND 16250000", 9},
	} {
		b.Run(c.name, func(b *testing.B) {
			q, err := s.ParseUserSQL(ctx, c.sql)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				kept, _, err := s.Prune(ctx, q, TableName{Schema: "silver", Name: "events"}, snap, adds)
				if err != nil {
					b.Fatal(err)
				}
				if len(kept) != c.kept {
					b.Fatalf("kept %d files", len(kept))
				}
			}
		})
	}
}
