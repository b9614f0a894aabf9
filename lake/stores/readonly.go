package stores

import (
	"context"
	"fmt"
	"io"

	"github.com/lakectl/lakectl/lake"
)

// readOnly returns s with every write refused with ErrReadOnly; reads pass through, and
// a LocalStore stays one, so DuckDB still reads its files in place.
func readOnly(s lake.Store) lake.Store {
	if ls, ok := s.(lake.LocalStore); ok {
		return readOnlyLocal{readOnlyStore{ls}, ls}
	}
	return readOnlyStore{s}
}

type readOnlyStore struct{ lake.Store }

type readOnlyLocal struct {
	readOnlyStore
	local lake.LocalStore
}

func (s readOnlyLocal) LocalPath(key string) string { return s.local.LocalPath(key) }

func (readOnlyStore) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	return fmt.Errorf("put %s: %w", key, ErrReadOnly)
}

func (readOnlyStore) PutIfAbsent(ctx context.Context, key string, data []byte) error {
	return fmt.Errorf("put-if-absent %s: %w", key, ErrReadOnly)
}

func (readOnlyStore) Delete(ctx context.Context, key string) error {
	return fmt.Errorf("delete %s: %w", key, ErrReadOnly)
}
