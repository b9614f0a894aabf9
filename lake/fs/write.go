package fs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"

	"github.com/lakectl/lakectl/lake"
)

// Put implements lake.Store: temp file, fsync, rename over the key, fsync the directory.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := s.path(key)
	if err != nil {
		return fmt.Errorf("fs: put: %w", err)
	}
	tmp, err := writeTemp(ctx, filepath.Dir(p), r, size)
	if err != nil {
		return fmt.Errorf("fs: put %s: %w", key, err)
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("fs: put %s: %w", key, err)
	}
	if err := syncDir(filepath.Dir(p)); err != nil {
		return fmt.Errorf("fs: put %s: %w", key, err)
	}
	return nil
}

// PutIfAbsent implements lake.Store: temp file, fsync, link(2) to the key, which fails
// if the name exists, then remove the temp name and fsync the directory.
func (s *Store) PutIfAbsent(ctx context.Context, key string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := s.path(key)
	if err != nil {
		return fmt.Errorf("fs: put-if-absent: %w", err)
	}
	dir := filepath.Dir(p)
	tmp, err := writeTemp(ctx, dir, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return fmt.Errorf("fs: put-if-absent %s: %w", key, err)
	}
	linkErr := os.Link(tmp, p)
	rmErr := os.Remove(tmp)
	if errors.Is(linkErr, iofs.ErrExist) {
		return fmt.Errorf("fs: put-if-absent %s: %w", key, lake.ErrExists)
	}
	if linkErr != nil {
		return fmt.Errorf("fs: put-if-absent %s: %w", key, linkErr)
	}
	if rmErr != nil {
		// The object is in place; only a stray temp file (which List hides) is left.
		return fmt.Errorf("fs: put-if-absent %s: remove temp file: %w", key, rmErr)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("fs: put-if-absent %s: %w", key, err)
	}
	return nil
}

// writeTemp copies r into a new fsynced temp file in dir (created if needed) and returns
// its path. On error it leaves nothing behind. size, unless -1, must match what r yields.
func writeTemp(ctx context.Context, dir string, r io.Reader, size int64) (path string, err error) {
	if err := mkdirAll(dir); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	n, err := io.Copy(f, ctxReader{ctx: ctx, r: r})
	if err != nil {
		return "", fmt.Errorf("write temp file: %w", err)
	}
	if size >= 0 && n != size {
		return "", fmt.Errorf("write temp file: reader yielded %d bytes, want %d", n, size)
	}
	// CreateTemp makes files private; objects are ordinary data files.
	if err := f.Chmod(0o644); err != nil {
		return "", err
	}
	if err := f.Sync(); err != nil {
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return f.Name(), nil
}

// mkdirAll creates dir and its missing parents like os.MkdirAll, and fsyncs the parent
// of each directory it creates: a new directory's entry is data of its parent, and
// without the fsync a crash could lose it, and every object written below it, after
// the write reported success.
func mkdirAll(dir string) error {
	if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := mkdirAll(parent); err != nil {
			return err
		}
	}
	err := os.Mkdir(dir, 0o755)
	if err != nil && !errors.Is(err, iofs.ErrExist) {
		return err
	}
	// Also when a concurrent writer created it: that writer may not have synced yet.
	return syncDir(parent)
}

// syncDir makes a rename, link or mkdir in dir durable. A variable so that a test can
// see which directories are synced.
var syncDir = func(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// ctxReader stops a long copy once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
