package cache

import (
	"context"
	"io"
	"os"
	"path"
	"regexp"

	"github.com/lakectl/lakectl/lake"
)

// commitFile matches the name of a Delta JSON commit, which PutIfAbsent creates once
// and nothing rewrites. Checkpoints are left to the store: a writer may put one again,
// and a torn one that a cache kept would be read (and skipped) forever.
var commitFile = regexp.MustCompile(`^\d{20}\.json$`)

// LogStore is the cache's store with its tables' JSON commits read through the cache:
// each is fetched once, so a new process loading a table reads from the store only
// what changes (_last_checkpoint, the listing, a checkpoint) and the commits since it
// last looked, where it read every commit after the checkpoint before. Every other
// call goes to the store. A local store is returned as it is.
func (c *Cache) LogStore() lake.Store {
	if c.local != nil {
		return c.store
	}
	return logStore{Store: c.store, cache: c}
}

type logStore struct {
	lake.Store
	cache *Cache
}

func (s logStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if !commitFile.MatchString(path.Base(key)) || path.Base(path.Dir(key)) != "_delta_log" {
		return s.Store.Get(ctx, key)
	}
	p, release, err := s.cache.Acquire(ctx, key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		release()
		return nil, err
	}
	return pinnedFile{File: f, release: release}, nil
}

// pinnedFile is a cached file that stays pinned until it is closed.
type pinnedFile struct {
	*os.File
	release func()
}

func (f pinnedFile) Close() error {
	err := f.File.Close()
	f.release()
	return err
}
