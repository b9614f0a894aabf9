// Package mem is an in-memory lake.Store for tests.
//
//	store := mem.New()
//	err := store.PutIfAbsent(ctx, "t/_delta_log/00000000000000000000.json", commit)
package mem

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/lakectl/lakectl/lake"
)

// Store keeps objects in a map. It is safe for concurrent use.
type Store struct {
	mu      sync.RWMutex
	objects map[string]object
}

type object struct {
	data    []byte
	modTime time.Time
}

var _ lake.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store { return &Store{objects: map[string]object{}} }

func (s *Store) lookup(key string) (object, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	o, ok := s.objects[key]
	if !ok {
		return object{}, fmt.Errorf("mem: %s: %w", key, fs.ErrNotExist)
	}
	return o, nil
}

// Get implements lake.Store.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	return s.GetRange(ctx, key, 0, -1)
}

// GetRange implements lake.Store.
func (s *Store) GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o, err := s.lookup(key)
	if err != nil {
		return nil, err
	}
	data := o.data[min(offset, int64(len(o.data))):]
	if length >= 0 && length < int64(len(data)) {
		data = data[:length]
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

// Put implements lake.Store.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("mem: put %s: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objects[key] = object{data: data, modTime: time.Now()}
	return nil
}

// PutIfAbsent implements lake.Store.
func (s *Store) PutIfAbsent(ctx context.Context, key string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.objects[key]; ok {
		return fmt.Errorf("mem: %s: %w", key, lake.ErrExists)
	}
	s.objects[key] = object{data: bytes.Clone(data), modTime: time.Now()}
	return nil
}

// Stat implements lake.Store.
func (s *Store) Stat(ctx context.Context, key string) (lake.ObjectInfo, error) {
	o, err := s.lookup(key)
	if err != nil {
		return lake.ObjectInfo{}, err
	}
	return lake.ObjectInfo{Key: key, Size: int64(len(o.data)), ModTime: o.modTime}, nil
}

// List implements lake.Store.
func (s *Store) List(ctx context.Context, prefix, startAfter string) ([]lake.ObjectInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []lake.ObjectInfo
	for k, o := range s.objects {
		if strings.HasPrefix(k, prefix) && k > startAfter {
			out = append(out, lake.ObjectInfo{Key: k, Size: int64(len(o.data)), ModTime: o.modTime})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Delete implements lake.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.objects, key)
	return nil
}

// SetModTime changes an object's modification time, so tests of retention (vacuum)
// need not wait.
func (s *Store) SetModTime(key string, t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o, ok := s.objects[key]; ok {
		o.modTime = t
		s.objects[key] = o
	}
}
