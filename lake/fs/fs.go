// Package fs is the file:// lake.Store: objects are files under a root directory, and
// keys are their slash-separated paths below it. It is lakectl's embedded default, and
// DuckDB reads its files in place (it implements lake.LocalStore).
//
//	store, err := fs.New("/var/lib/lake")
//	err = store.PutIfAbsent(ctx, "silver/events/_delta_log/00000000000000000000.json", commit)
//
// Writes are atomic and durable: an object is written to a temporary file in its target
// directory, fsynced, then renamed (Put) or hard-linked (PutIfAbsent) into place, and the
// directory is fsynced. link(2) fails when the name exists, so PutIfAbsent is an
// exclusive create even between processes and hosts sharing a POSIX file system.
//
// Temporary files are named ".tmp-*"; List never shows them and keys may not use that
// name. Directories are created as needed and are not removed when their last object
// is deleted (removing them would race with a concurrent Put into the same directory);
// List does not show directories.
package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/lakectl/lakectl/lake"
)

// tempPrefix starts the names of files that are being written.
const tempPrefix = ".tmp-"

// Store is a lake.Store over a local directory. It is safe for concurrent use.
type Store struct {
	root string // absolute, cleaned
}

var _ lake.LocalStore = (*Store)(nil)

// New returns a store rooted at dir. The directory is created by the first write, not
// here, so that reading a mistyped path leaves nothing behind.
func New(dir string) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("fs store %s: %w", dir, err)
	}
	return &Store{root: abs}, nil
}

// Root returns the absolute directory that holds the objects.
func (s *Store) Root() string { return s.root }

// LocalPath implements lake.LocalStore.
func (s *Store) LocalPath(key string) string {
	return filepath.Join(s.root, filepath.FromSlash(key))
}

// checkKey refuses keys that would escape the root or collide with temporary files.
func checkKey(key string) error {
	if key == "" || strings.HasPrefix(key, "/") || strings.HasSuffix(key, "/") {
		return fmt.Errorf("invalid key %q", key)
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" || seg == "." || seg == ".." || strings.HasPrefix(seg, tempPrefix) {
			return fmt.Errorf("invalid key %q", key)
		}
	}
	return nil
}

// path validates key and returns its file path.
func (s *Store) path(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	return s.LocalPath(key), nil
}

// notFound makes a missing object (or a directory where an object was asked for) an
// fs.ErrNotExist that names the key.
func notFound(op, key string) error {
	return fmt.Errorf("fs: %s %s: %w", op, key, iofs.ErrNotExist)
}

// isNotExist reports a missing file, including a path through a file ("a/b" when "a"
// is an object), which is just a missing key to the caller.
func isNotExist(err error) bool {
	return errors.Is(err, iofs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// open opens key's file for reading; a directory counts as missing.
func (s *Store) open(op, key string) (*os.File, iofs.FileInfo, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, nil, fmt.Errorf("fs: %s: %w", op, err)
	}
	f, err := os.Open(p)
	if isNotExist(err) {
		return nil, nil, notFound(op, key)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("fs: %s %s: %w", op, key, err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("fs: %s %s: %w", op, key, err)
	}
	if info.IsDir() {
		f.Close()
		return nil, nil, notFound(op, key)
	}
	return f, info, nil
}

// Get implements lake.Store.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, _, err := s.open("get", key)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// GetRange implements lake.Store.
func (s *Store) GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, fmt.Errorf("fs: get range %s: negative offset %d", key, offset)
	}
	f, info, err := s.open("get range", key)
	if err != nil {
		return nil, err
	}
	n := info.Size() - offset
	if length >= 0 {
		n = min(n, length)
	}
	return &sectionReader{SectionReader: io.NewSectionReader(f, offset, max(n, 0)), f: f}, nil
}

type sectionReader struct {
	*io.SectionReader
	f *os.File
}

func (r *sectionReader) Close() error { return r.f.Close() }

// Stat implements lake.Store.
func (s *Store) Stat(ctx context.Context, key string) (lake.ObjectInfo, error) {
	if err := ctx.Err(); err != nil {
		return lake.ObjectInfo{}, err
	}
	p, err := s.path(key)
	if err != nil {
		return lake.ObjectInfo{}, fmt.Errorf("fs: stat: %w", err)
	}
	info, err := os.Stat(p)
	if isNotExist(err) || (err == nil && info.IsDir()) {
		return lake.ObjectInfo{}, notFound("stat", key)
	}
	if err != nil {
		return lake.ObjectInfo{}, fmt.Errorf("fs: stat %s: %w", key, err)
	}
	return lake.ObjectInfo{Key: key, Size: info.Size(), ModTime: info.ModTime()}, nil
}

// List implements lake.Store. It walks only the directories that can hold keys with
// prefix, then sorts, because directory order ("a/b" before "a-c") is not key order.
func (s *Store) List(ctx context.Context, prefix, startAfter string) ([]lake.ObjectInfo, error) {
	// The deepest directory that every matching key lies under.
	dir := ""
	if i := strings.LastIndex(prefix, "/"); i >= 0 {
		dir = prefix[:i]
	}
	start := s.root
	if dir != "" {
		if checkKey(dir) != nil {
			return nil, nil // no valid key has this prefix ("../", "a//")
		}
		start = s.LocalPath(dir)
	}
	var out []lake.ObjectInfo
	err := filepath.WalkDir(start, func(p string, d iofs.DirEntry, err error) error {
		if err != nil {
			if isNotExist(err) {
				return nil // the prefix's directory does not exist, or vanished meanwhile
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(s.root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if d.IsDir() {
			if key == "." {
				return nil
			}
			// Descend only where keys can start with prefix.
			if dirKey := key + "/"; !strings.HasPrefix(dirKey, prefix) && !strings.HasPrefix(prefix, dirKey) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(d.Name(), tempPrefix) || !d.Type().IsRegular() ||
			!strings.HasPrefix(key, prefix) || key <= startAfter {
			return nil
		}
		info, err := d.Info()
		if errors.Is(err, iofs.ErrNotExist) {
			return nil // deleted while listing
		}
		if err != nil {
			return err
		}
		out = append(out, lake.ObjectInfo{Key: key, Size: info.Size(), ModTime: info.ModTime()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("fs: list %q: %w", prefix, err)
	}
	slices.SortFunc(out, func(a, b lake.ObjectInfo) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// Delete implements lake.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := s.path(key)
	if err != nil {
		return fmt.Errorf("fs: delete: %w", err)
	}
	if info, err := os.Lstat(p); err == nil && info.IsDir() {
		return nil // a directory is not an object; there is nothing to delete
	}
	err = os.Remove(p)
	if err == nil || isNotExist(err) {
		return nil
	}
	return fmt.Errorf("fs: delete %s: %w", key, err)
}
