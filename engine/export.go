package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/uuid"

	"github.com/lakectl/lakectl/engine/sqlfrag"
)

// ExportParquet writes the result of checked user SQL q (one query) to w as one zstd
// Parquet file. The session must be sealed: DuckDB writes the file into the session's
// private temp directory, the one place a sealed session may write, and it is
// streamed from there and removed.
func (s *Session) ExportParquet(ctx context.Context, q *UserSQL, w io.Writer) error {
	s.mu.Lock()
	sealed := s.sealed
	s.mu.Unlock()
	if !sealed {
		return errors.New("export parquet: user SQL runs only in a sealed session: call Seal first")
	}
	path := filepath.Join(s.tempDir, "export-"+uuid.NewString()+".parquet")
	defer os.Remove(path)
	query := strings.TrimRight(strings.TrimSpace(q.text), ";")
	stmt := sqlfrag.Fmt("COPY %s TO %s (FORMAT parquet, COMPRESSION zstd)", sqlfrag.Query(query), sqlfrag.Str(path))
	if _, err := s.conn.ExecContext(ctx, stmt.String()); err != nil {
		return fmt.Errorf("export parquet: %w", err)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("export parquet: %w", err)
	}
	defer f.Close()
	if _, err := io.Copy(w, f); err != nil {
		return fmt.Errorf("export parquet: %w", err)
	}
	return nil
}
