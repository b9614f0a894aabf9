package lake_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/deltatest"
	lakefs "github.com/lakectl/lakectl/lake/fs"
)

// The benchmarks take a store factory, so the same measurements run against an S3
// server once one is plugged in here.
type benchStore struct {
	name string
	open func(b *testing.B, dir string) lake.Store
}

var benchStores = []benchStore{
	{"fs", func(b *testing.B, dir string) lake.Store {
		s, err := lakefs.New(dir)
		if err != nil {
			b.Fatal(err)
		}
		return s
	}},
}

// BenchmarkCommit measures one append as a writer does it: load the latest snapshot,
// commit one file (checkpoints every 10 commits included).
func BenchmarkCommit(b *testing.B) {
	for _, bs := range benchStores {
		b.Run(bs.name, func(b *testing.B) {
			tbl := lake.NewTable(bs.open(b, b.TempDir()), "t")
			if err := deltatest.Create(b.Context(), tbl); err != nil {
				b.Fatal(err)
			}
			i := 0
			for b.Loop() {
				i++
				if _, err := deltatest.Append(b.Context(), tbl, "bench", i); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/commit")
		})
	}
}

const benchCommits = 10_000

// BenchmarkLoad measures loading the latest snapshot of a table of 10,000 commits of
// one file each, with a checkpoint at v9990 and without any.
func BenchmarkLoad(b *testing.B) {
	for _, bs := range benchStores {
		for _, withCheckpoint := range []bool{false, true} {
			name := fmt.Sprintf("%s/commits=%d/checkpoint=%v", bs.name, benchCommits, withCheckpoint)
			b.Run(name, func(b *testing.B) {
				store := bs.open(b, seededDir(b, bs, withCheckpoint))
				tbl := lake.NewTable(store, "t")
				for b.Loop() {
					s, err := tbl.Latest(b.Context())
					if err != nil {
						b.Fatal(err)
					}
					if s.Version != benchCommits-1 || s.NumFiles() != benchCommits-1 {
						b.Fatalf("loaded v%d with %d files", s.Version, s.NumFiles())
					}
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/load")
			})
		}
	}
}

var (
	seedMu   sync.Mutex
	seedDirs = map[string]string{}
	seedRoot string
)

// seededDir returns a directory holding the 10,000-commit table, made once per run
// (the benchmark function is called several times).
func seededDir(b *testing.B, bs benchStore, withCheckpoint bool) string {
	seedMu.Lock()
	defer seedMu.Unlock()
	key := fmt.Sprint(bs.name, withCheckpoint)
	if d, ok := seedDirs[key]; ok {
		return d
	}
	if seedRoot == "" {
		d, err := os.MkdirTemp("", "lakectl-bench-")
		if err != nil {
			b.Fatal(err)
		}
		seedRoot = d
	}
	dir := filepath.Join(seedRoot, key)
	store := bs.open(b, dir)
	if err := seedCommits(b.Context(), store, "t", benchCommits); err != nil {
		b.Fatal(err)
	}
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
	seedDirs[key] = dir
	return dir
}

// seedCommits writes n commits straight into the log: v0 creates the table, each later
// one adds a file. On a local store it writes the files directly, which is much faster
// than n durable PutIfAbsents and makes the same log.
func seedCommits(ctx context.Context, store lake.Store, root string, n int) error {
	md := deltatest.Metadata()
	md.ID = "bench"
	md.Format = lake.Format{Provider: "parquet", Options: map[string]string{}}
	md.Configuration = map[string]string{}
	for v := range n {
		var actions []lake.Action
		info := lake.CommitInfo{"timestamp": 1_700_000_000_000 + int64(v)*1000, "operation": "WRITE"}
		actions = append(actions, lake.Action{CommitInfo: &info})
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
				return err
			}
		}
		key := fmt.Sprintf("%s/_delta_log/%020d.json", root, v)
		if ls, ok := store.(lake.LocalStore); ok {
			p := ls.LocalPath(key)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
				return err
			}
			continue
		}
		if err := store.PutIfAbsent(ctx, key, buf.Bytes()); err != nil {
			return err
		}
	}
	return nil
}
