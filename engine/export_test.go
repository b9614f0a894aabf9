package engine

import (
	"bytes"
	"os"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// ExportParquet writes a sealed session's result as one Parquet file and leaves
// nothing behind in the session's temp directory; an unsealed session is refused.
func TestExportParquet(t *testing.T) {
	s, err := Open(t.Context(), Config{MemoryLimit: "64MiB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	q, err := s.ParseUserSQL(t.Context(), "SELECT range AS n, 'x' || range AS s FROM range(5)")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ExportParquet(t.Context(), q, &bytes.Buffer{}); err == nil {
		t.Error("export from an unsealed session: no error")
	}
	if err := s.Seal(t.Context(), SealOptions{}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := s.ExportParquet(t.Context(), q, &buf); err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if f.NumRows() != 5 || len(f.Schema().Fields()) != 2 {
		t.Errorf("%d rows, %d columns; want 5 and 2", f.NumRows(), len(f.Schema().Fields()))
	}
	left, err := os.ReadDir(s.tempDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range left {
		if e.Type().IsRegular() {
			t.Errorf("left in the temp directory: %s", e.Name())
		}
	}
}
