package fs

import (
	"bytes"
	"path/filepath"
	"slices"
	"testing"
)

// A write into directories that it creates fsyncs the parent of each new directory:
// otherwise a crash after the write reported success could lose the directory's entry,
// and with it the object (a committed data file, or the first commit of a table).
func TestNewDirectoriesAreDurable(t *testing.T) {
	var synced []string
	orig := syncDir
	syncDir = func(dir string) error {
		synced = append(synced, dir)
		return orig(dir)
	}
	t.Cleanup(func() { syncDir = orig })

	root := filepath.Join(t.TempDir(), "lake")
	s, err := New(root)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := s.Put(ctx, "t/p=x/part-1.parquet", bytes.NewReader([]byte("data")), 4); err != nil {
		t.Fatal(err)
	}
	if err := s.PutIfAbsent(ctx, "t/_delta_log/00000000000000000000.json", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	// lake, lake/t, lake/t/p=x and lake/t/_delta_log were created: their parents hold
	// the new entries.
	for _, dir := range []string{filepath.Dir(root), root, filepath.Join(root, "t")} {
		if !slices.Contains(synced, dir) {
			t.Errorf("%s (parent of a new directory) was not fsynced; synced %v", dir, synced)
		}
	}
}
