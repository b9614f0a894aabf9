package lake_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/lakectl/lakectl/internal/golden"
	"github.com/lakectl/lakectl/lake"
	lakefs "github.com/lakectl/lakectl/lake/fs"
	"github.com/lakectl/lakectl/lake/mem"
)

// copyToMem copies a golden table into a fresh memory store under root, keeping the
// files' modification times.
func copyToMem(t *testing.T, dir, root string) *mem.Store {
	t.Helper()
	store := mem.New()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		key := root + "/" + filepath.ToSlash(rel)
		if err := store.PutIfAbsent(context.Background(), key, data); err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		store.SetModTime(key, info.ModTime())
		return nil
	})
	if err != nil {
		t.Fatalf("copy %s: %v", dir, err)
	}
	return store
}

// report is the part of a snapshot that the golden expectations pin down.
func report(s *lake.Snapshot) golden.DeltaExpected {
	r := golden.DeltaExpected{
		Version:          s.Version,
		MinReaderVersion: s.Protocol.MinReaderVersion,
		MinWriterVersion: s.Protocol.MinWriterVersion,
		PartitionColumns: s.PartitionColumns(),
		Files:            []golden.DeltaFile{},
		Txns:             s.Txns(),
	}
	for _, a := range s.Files() {
		f := golden.DeltaFile{Path: a.DecodedPath(), PartitionValues: a.PartitionValues, Size: a.Size}
		if st, ok, err := a.ParseStats(); err == nil && ok {
			n := st.NumRecords
			f.NumRecords = &n
		}
		r.Files = append(r.Files, f)
	}
	return r
}

func checkGolden(t *testing.T, name string, snap *lake.Snapshot) {
	t.Helper()
	want := golden.LoadDeltaExpected(t, name)
	got := report(snap)
	if len(want.Files) == 0 {
		want.Files = []golden.DeltaFile{}
	}
	if got.Version != want.Version || got.MinReaderVersion != want.MinReaderVersion || got.MinWriterVersion != want.MinWriterVersion {
		t.Errorf("version/protocol = v%d %d/%d, want v%d %d/%d", got.Version, got.MinReaderVersion, got.MinWriterVersion,
			want.Version, want.MinReaderVersion, want.MinWriterVersion)
	}
	if !reflect.DeepEqual(got.PartitionColumns, want.PartitionColumns) {
		t.Errorf("partitionColumns = %v, want %v", got.PartitionColumns, want.PartitionColumns)
	}
	if !reflect.DeepEqual(got.Txns, want.Txns) {
		t.Errorf("txns = %v, want %v", got.Txns, want.Txns)
	}
	if !reflect.DeepEqual(got.Files, want.Files) {
		t.Errorf("files differ:\n got %s\nwant %s", dumpFiles(got.Files), dumpFiles(want.Files))
	}
}

func dumpFiles(files []golden.DeltaFile) string {
	var b strings.Builder
	for _, f := range files {
		b.WriteString("\n  " + f.Path)
		for k, v := range f.PartitionValues {
			if v == nil {
				b.WriteString(" " + k + "=<null>")
			} else {
				b.WriteString(" " + k + "=" + *v)
			}
		}
	}
	return b.String()
}

func TestGoldenTables(t *testing.T) {
	dir := golden.DeltaDir(t)
	names := golden.DeltaTables(t)
	if len(names) < 10 {
		t.Fatalf("found %d golden tables in %s, want the whole set", len(names), dir)
	}
	for _, name := range names {
		t.Run(name+"/fs", func(t *testing.T) {
			store, err := lakefs.New(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			snap, err := lake.NewTable(store, "").Latest(t.Context())
			if err != nil {
				t.Fatalf("latest: %v", err)
			}
			checkGolden(t, name, snap)
		})
		t.Run(name+"/mem", func(t *testing.T) {
			store := copyToMem(t, filepath.Join(dir, name), "t")
			snap, err := lake.NewTable(store, "t").Latest(t.Context())
			if err != nil {
				t.Fatalf("latest: %v", err)
			}
			checkGolden(t, name, snap)
		})
	}
}

// The checkpointed golden tables load the same without _last_checkpoint, with a
// stale one, with one naming a checkpoint that is gone, and with the commits the
// checkpoint covers removed (as vacuum does).
func TestGoldenCheckpointVariants(t *testing.T) {
	dir := golden.DeltaDir(t)
	for _, name := range []string{"simple_table_with_checkpoint", "latest_not_checkpointed", "delta-0.2.0", "with_checkpoint_no_last_checkpoint"} {
		variants := map[string]func(s *mem.Store){
			"no _last_checkpoint": func(s *mem.Store) { s.Delete(context.Background(), "t/_delta_log/_last_checkpoint") },
			"stale hint": func(s *mem.Store) {
				s.Put(context.Background(), "t/_delta_log/_last_checkpoint", strings.NewReader(`{"version":1,"size":3}`), -1)
			},
			"hint to a missing checkpoint": func(s *mem.Store) {
				s.Put(context.Background(), "t/_delta_log/_last_checkpoint", strings.NewReader(`{"version":99,"size":3}`), -1)
			},
			"garbage hint": func(s *mem.Store) {
				s.Put(context.Background(), "t/_delta_log/_last_checkpoint", strings.NewReader(`{`), -1)
			},
			"covered commits expired": func(s *mem.Store) {
				objs, _ := s.List(context.Background(), "t/_delta_log/", "")
				cp := ""
				for _, o := range objs {
					if strings.HasSuffix(o.Key, ".checkpoint.parquet") {
						cp = strings.TrimSuffix(o.Key, ".checkpoint.parquet")
					}
				}
				for _, o := range objs {
					if strings.HasSuffix(o.Key, ".json") && strings.TrimSuffix(o.Key, ".json") < cp {
						s.Delete(context.Background(), o.Key)
					}
				}
			},
		}
		for vname, mutate := range variants {
			t.Run(name+"/"+vname, func(t *testing.T) {
				store := copyToMem(t, filepath.Join(dir, name), "t")
				mutate(store)
				snap, err := lake.NewTable(store, "t").Latest(t.Context())
				if err != nil {
					t.Fatalf("latest: %v", err)
				}
				checkGolden(t, name, snap)
			})
		}
	}
}

func TestGoldenRefused(t *testing.T) {
	dir := golden.DeltaDir(t)
	for name, feature := range map[string]string{
		"table-with-dv-small":       "deletionVectors",
		"table_with_column_mapping": "columnMapping",
	} {
		t.Run(name, func(t *testing.T) {
			store := copyToMem(t, filepath.Join(dir, name), "t")
			tbl := lake.NewTable(store, "t")
			_, err := tbl.Latest(t.Context())
			var unsupported *lake.UnsupportedError
			if !errors.As(err, &unsupported) || unsupported.Feature != feature {
				t.Fatalf("latest: err = %v, want an UnsupportedError naming %s", err, feature)
			}
			before, _ := store.List(t.Context(), "", "")
			if _, err := tbl.Vacuum(t.Context(), lake.VacuumOptions{Retain: 1}); !errors.As(err, &unsupported) {
				t.Errorf("vacuum: err = %v, want an UnsupportedError", err)
			}
			after, _ := store.List(t.Context(), "", "")
			if len(after) != len(before) {
				t.Errorf("vacuum of a refused table changed the store: %d objects, had %d", len(after), len(before))
			}
		})
	}
}

func TestNoTable(t *testing.T) {
	_, err := lake.NewTable(mem.New(), "nothing/here").Latest(t.Context())
	if !errors.Is(err, lake.ErrNoTable) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("latest of an empty prefix: err = %v, want ErrNoTable", err)
	}
}
