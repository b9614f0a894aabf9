package lake_test

import (
	"context"
	"errors"
	"io"
	"strings"

	"github.com/lakectl/lakectl/lake"
)

// failingPut is a store whose Puts of keys containing fail fail.
type failingPut struct {
	lake.Store
	fail string
}

func (s *failingPut) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if strings.Contains(key, s.fail) {
		return errors.New("injected put failure")
	}
	return s.Store.Put(ctx, key, r, size)
}

// failingGet is a store whose Gets of keys containing fail fail with err.
type failingGet struct {
	lake.Store
	fail string
	err  error
}

func (s *failingGet) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if strings.Contains(key, s.fail) {
		return nil, s.err
	}
	return s.Store.Get(ctx, key)
}
