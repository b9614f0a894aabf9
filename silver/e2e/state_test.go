package e2e

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/engine/sqlfrag"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/cache"
	"github.com/lakectl/lakectl/lake/stores"
	"github.com/lakectl/lakectl/silver"
)

// tableState is what a reader sees of a table at one version: its rows (count and a
// hash of every row in key order) and its live data files.
type tableState struct {
	Version int64
	Rows    int64
	Hash    string
	Files   []string // live data file paths, sorted
}

// same reports whether two states hold the same rows (files may have other names
// when the runs were different processes).
func (s tableState) same(o tableState) bool {
	return s.Version == o.Version && s.Rows == o.Rows && s.Hash == o.Hash && len(s.Files) == len(o.Files)
}

func (s tableState) String() string {
	return fmt.Sprintf("v%d: %d rows, %d files, hash %s", s.Version, s.Rows, len(s.Files), s.Hash)
}

// rowHash hashes a whole row set: each row cast to text, in the given order.
const rowHash = "SELECT count(*), coalesce(md5(string_agg(CAST(r AS VARCHAR), chr(10) ORDER BY %s)), '') FROM %s r"

// lakeReader reads a pipeline's lake directly, as any Delta reader would.
type lakeReader struct {
	store lake.Store
	sess  *engine.Session
	cache *cache.Cache
}

func openLake(t *testing.T, pipelineDir string) *lakeReader {
	t.Helper()
	return openLakeURL(t, filepath.Join(pipelineDir, "lake"), nil)
}

// openLakeURL opens the lake at url (a path or s3://...), read-only, with the
// variables of env (NAME=value) for its configuration.
func openLakeURL(t *testing.T, url string, env []string) *lakeReader {
	t.Helper()
	store, err := stores.Open(t.Context(), url, stores.Options{ReadOnly: true, Getenv: envLookup(env)})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := engine.Open(t.Context(), engine.Config{Threads: 1, MemoryLimit: "1GiB"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	return &lakeReader{store: store, sess: sess, cache: cache.New(store, t.TempDir(), 0)}
}

// versions returns the state of every version of the table at root, oldest first;
// none when the table does not exist.
func (l *lakeReader) versions(t *testing.T, root, order string, cols string) []tableState {
	t.Helper()
	table := lake.NewTable(l.store, root)
	latest, err := table.Latest(t.Context())
	if errors.Is(err, lake.ErrNoTable) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []tableState
	for v := int64(0); v <= latest.Version; v++ {
		out = append(out, l.state(t, table, v, order, cols))
	}
	return out
}

func (l *lakeReader) latest(t *testing.T, root, order, cols string) tableState {
	t.Helper()
	vs := l.versions(t, root, order, cols)
	if len(vs) == 0 {
		return tableState{Version: -1}
	}
	return vs[len(vs)-1]
}

func (l *lakeReader) state(t *testing.T, table *lake.Table, v int64, order, cols string) tableState {
	t.Helper()
	snap, err := table.At(t.Context(), v)
	if err != nil {
		t.Fatalf("read %s v%d: %v", table, v, err)
	}
	name := fmt.Sprintf("%s_v%d", strings.ReplaceAll(table.String(), "/", "_"), v)
	name = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, name)
	if err := l.sess.RegisterTable(t.Context(), "main", name, snap, engine.TableFiles(table, l.cache)); err != nil {
		t.Fatal(err)
	}
	src := fmt.Sprintf("(SELECT %s FROM %s)", cols, sqlfrag.Ident(name))
	st := tableState{Version: v}
	if err := l.sess.QueryRowContext(t.Context(), fmt.Sprintf(rowHash, order, src)).Scan(&st.Rows, &st.Hash); err != nil {
		t.Fatalf("hash %s v%d: %v", table, v, err)
	}
	for _, a := range snap.Files() {
		st.Files = append(st.Files, a.Path)
	}
	slices.Sort(st.Files)
	return st
}

// silverStates and quarantineState are the states the tests compare. Quarantine
// leaves out quarantined_at, the wall-clock time of the run.
func (l *lakeReader) silverStates(t *testing.T) []tableState {
	return l.versions(t, silver.Root("events"), "r.event_id", "*")
}

func (l *lakeReader) quarantineState(t *testing.T) tableState {
	return l.latest(t, silver.QuarantineRoot("events"), `r."partition", r."offset"`,
		`"reason", "payload", "topic", "partition", "offset", "ingested_at", "bronze_version"`)
}

// dataFiles lists every Parquet file of the table at root, live or not, relative
// to root, as the store lists them.
func (l *lakeReader) dataFiles(t *testing.T, root string) []string {
	t.Helper()
	objs, err := l.store.List(t.Context(), root+"/", "")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, o := range objs {
		rel := strings.TrimPrefix(o.Key, root+"/")
		if strings.HasSuffix(rel, ".parquet") && !strings.HasPrefix(rel, "_delta_log/") {
			out = append(out, rel)
		}
	}
	slices.Sort(out)
	return out
}

// envLookup is a getenv over env's NAME=value entries, then the process's own.
func envLookup(env []string) func(string) string {
	return func(name string) string {
		for i := len(env) - 1; i >= 0; i-- {
			if v, ok := strings.CutPrefix(env[i], name+"="); ok {
				return v
			}
		}
		return os.Getenv(name)
	}
}

// dataFiles lists every Parquet file under the table's directory, live or not.
func dataFiles(t *testing.T, pipelineDir, root string) []string {
	t.Helper()
	var out []string
	dir := filepath.Join(pipelineDir, "lake", filepath.FromSlash(root))
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".parquet") && !strings.Contains(path, "_delta_log") {
			rel, _ := filepath.Rel(dir, path)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}
