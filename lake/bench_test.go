package lake_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/lakectl/lakectl/internal/s3server"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/deltatest"
)

// benchStore is a backend the benchmarks run against. start prepares it for the
// benchmark b (an S3 server lives as long as b) and returns a function that opens a
// fresh, empty store there.
type benchStore struct {
	name  string
	start func(b *testing.B) func() lake.Store
}

var benchStores = []benchStore{
	{"fs", func(b *testing.B) func() lake.Store {
		return func() lake.Store { return newFS(b) }
	}},
	{s3server.VersityGW, s3Bench(s3server.VersityGW)},
	{s3server.MinIO, s3Bench(s3server.MinIO)},
}

// s3Bench starts a server of kind (skipping, or failing in CI, without its binary) and
// opens each store under a fresh prefix, as lakectl opens it: with retries.
func s3Bench(kind string) func(b *testing.B) func() lake.Store {
	return func(b *testing.B) func() lake.Store {
		srv := s3server.Start(b, kind)
		return func() lake.Store {
			store, _ := openS3(b, srv)
			return store
		}
	}
}

const (
	benchCommits = 10_000
	// commitsPerOp makes one benchmark operation several commits, so that the figure
	// means something under `make bench`'s -benchtime 1x.
	commitsPerOp = 50
)

// BenchmarkDeltaLog measures, on every backend, loading the latest snapshot of a table
// of 10,000 commits of one file each (with a checkpoint at v9990, and without any), and
// one append as a writer does it (load the latest snapshot, commit one file): on a new
// table, checkpoints every 10 commits included, and on the 10,000-commit tables, with
// checkpoints and, writing none, without. The commits run after the loads, on the same
// tables, because seeding a table on S3 takes longer than measuring it.
func BenchmarkDeltaLog(b *testing.B) {
	for _, bs := range benchStores {
		b.Run(bs.name, func(b *testing.B) {
			open := bs.start(b)
			tables := map[bool]lake.Store{}
			table := func(b *testing.B, withCheckpoint bool) lake.Store {
				if tables[withCheckpoint] == nil {
					tables[withCheckpoint] = seeded(b, open(), withCheckpoint)
				}
				return tables[withCheckpoint]
			}
			for _, withCheckpoint := range []bool{false, true} {
				b.Run(fmt.Sprintf("load/commits=%d/checkpoint=%v", benchCommits, withCheckpoint), func(b *testing.B) {
					benchLoad(b, lake.NewTable(table(b, withCheckpoint), "t"))
				})
			}
			b.Run("commit/new-table", func(b *testing.B) {
				tbl := lake.NewTable(open(), "t")
				if err := deltatest.Create(b.Context(), tbl); err != nil {
					b.Fatal(err)
				}
				benchAppends(b, tbl, commitsPerOp)
			})
			b.Run(fmt.Sprintf("commit/commits=%d/checkpoint=true", benchCommits), func(b *testing.B) {
				benchAppends(b, lake.NewTable(table(b, true), "t"), commitsPerOp)
			})
			b.Run(fmt.Sprintf("commit/commits=%d/checkpoint=false", benchCommits), func(b *testing.B) {
				// Each commit replays the whole log: a few are enough.
				benchAppends(b, lake.NewTable(table(b, false), "t", lake.WithCheckpointInterval(0)), 3)
			})
		})
	}
}

// benchLoad loads the latest snapshot of the seeded table per operation and reports
// the time per load.
func benchLoad(b *testing.B, tbl *lake.Table) {
	for b.Loop() {
		s, err := tbl.Latest(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		if s.Version != benchCommits-1 || s.NumFiles() != benchCommits-1 {
			b.Fatalf("loaded v%d with %d files, want v%d with %d", s.Version, s.NumFiles(), benchCommits-1, benchCommits-1)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/load")
}

// benchAppends appends perOp files per operation, one commit each, and reports the
// time per commit.
func benchAppends(b *testing.B, tbl *lake.Table, perOp int) {
	seq := 0
	for b.Loop() {
		for range perOp {
			seq++
			if _, err := deltatest.Append(b.Context(), tbl, "bench", seq); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N*perOp), "ms/commit")
}

// seeded fills store with the 10,000-commit table at "t", with a checkpoint at v9990
// if withCheckpoint, outside the benchmark's timer, and returns store.
func seeded(b *testing.B, store lake.Store, withCheckpoint bool) lake.Store {
	b.StopTimer()
	defer b.StartTimer()
	start := time.Now()
	if err := seedCommits(b.Context(), store, "t", benchCommits); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d commits in %s", benchCommits, time.Since(start).Round(time.Millisecond))
	if withCheckpoint {
		tbl := lake.NewTable(store, "t")
		s, err := tbl.At(b.Context(), benchCommits-10)
		if err != nil {
			b.Fatal(err)
		}
		if err := tbl.Checkpoint(b.Context(), s); err != nil {
			b.Fatal(err)
		}
	}
	return store
}

// seedWriters bounds the commit files written at once while seeding.
const seedWriters = 32

// seedCommits writes n commits straight into the log: v0 creates the table, each later
// one adds a file. It writes the files in parallel with plain writes (on a local store,
// without fsync), which is much faster than n PutIfAbsents in a row and makes the same
// log.
func seedCommits(ctx context.Context, store lake.Store, root string, n int) error {
	md := deltatest.Metadata()
	md.ID = "bench"
	md.Format = lake.Format{Provider: "parquet", Options: map[string]string{}}
	md.Configuration = map[string]string{}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(seedWriters)
	for v := range n {
		g.Go(func() error {
			data, err := seedCommit(md, v)
			if err != nil {
				return err
			}
			key := fmt.Sprintf("%s/_delta_log/%020d.json", root, v)
			if ls, ok := store.(lake.LocalStore); ok {
				p := ls.LocalPath(key)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					return err
				}
				return os.WriteFile(p, data, 0o644)
			}
			return store.Put(ctx, key, bytes.NewReader(data), int64(len(data)))
		})
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("seed %d commits: %w", n, err)
	}
	return nil
}

// seedCommit encodes commit v of the seeded table.
func seedCommit(md lake.Metadata, v int) ([]byte, error) {
	info := lake.CommitInfo{"timestamp": 1_700_000_000_000 + int64(v)*1000, "operation": "WRITE"}
	actions := []lake.Action{{CommitInfo: &info}}
	if v == 0 {
		actions = append(actions, lake.Action{Protocol: &lake.Protocol{MinReaderVersion: 1, MinWriterVersion: 2}},
			lake.Action{Metadata: &md})
	} else {
		a := deltatest.FileAdd("seed", v, fmt.Sprint(v%24))
		a.Stats = `{"numRecords":1000,"minValues":{"id":1},"maxValues":{"id":1000},"nullCount":{"id":0}}`
		actions = append(actions, lake.Action{Add: &a})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, a := range actions {
		if err := enc.Encode(a); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}
