package lake

import (
	"context"
	"io"
	"time"
)

// Store is a flat namespace of immutable-ish objects addressed by slash-separated keys
// relative to the store's root (a directory, or a bucket and prefix). Keys never start
// with a slash. Every backend passes the same contract suite (lake/storetest).
//
// Not-found is reported as an error for which errors.Is(err, fs.ErrNotExist) is true.
type Store interface {
	// Get opens the whole object for reading. The caller closes the reader.
	Get(ctx context.Context, key string) (io.ReadCloser, error)

	// GetRange opens length bytes of the object starting at offset. A negative length
	// reads to the end. Reading past the end returns what there is.
	GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error)

	// Put writes the object, replacing any previous one. Readers see either the old
	// object or the whole new one, never a part. size is the number of bytes r yields,
	// or -1 when unknown.
	Put(ctx context.Context, key string, r io.Reader, size int64) error

	// PutIfAbsent writes the object only if no object of that key exists, atomically:
	// of any number of concurrent callers, exactly one succeeds and the others get an
	// error for which errors.Is(err, ErrExists) is true. It is how Delta commits are
	// made, so data is small and is written in a single request.
	PutIfAbsent(ctx context.Context, key string, data []byte) error

	// Stat returns the object's size and modification time.
	Stat(ctx context.Context, key string) (ObjectInfo, error)

	// List returns the objects whose keys start with prefix and sort after startAfter
	// (all of them when startAfter is empty), in ascending key order. A prefix that
	// matches nothing yields an empty list, not an error.
	List(ctx context.Context, prefix, startAfter string) ([]ObjectInfo, error)

	// Delete removes the object. Deleting a missing object is not an error.
	Delete(ctx context.Context, key string) error
}

// ObjectInfo describes one stored object.
type ObjectInfo struct {
	Key     string
	Size    int64
	ModTime time.Time
}

// LocalStore is implemented by stores whose objects are files on the local disk, so
// readers such as DuckDB can open them in place instead of through the cache.
type LocalStore interface {
	Store
	// LocalPath returns the absolute file path that holds key.
	LocalPath(key string) string
}

// ReadAll reads a whole object into memory.
func ReadAll(ctx context.Context, s Store, key string) ([]byte, error) {
	rc, err := s.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}
