package s3

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/lakectl/lakectl/lake"
)

// probePrefix is where the conditional-write probe writes; one object per check.
const probePrefix = "_lakectl/probe/"

// ConditionalWritesError says that a store accepted a second PutIfAbsent of one key, so
// concurrent Delta commits could overwrite each other. lakectl refuses to write there.
type ConditionalWritesError struct {
	Where string // the store and endpoint, e.g. "s3://lake at http://127.0.0.1:9000"
}

func (e *ConditionalWritesError) Error() string {
	return fmt.Sprintf("%s ignores If-None-Match: a second conditional PUT of one key succeeded, "+
		"so concurrent commits could overwrite each other; refusing to write there", e.Where)
}

// Hint tells the user what to do about it (cmd/lakectl prints it).
func (e *ConditionalWritesError) Hint() string {
	return "use an S3 server that supports conditional writes (AWS S3, MinIO, versitygw v1.8+, ...)"
}

// CheckConditionalWrites verifies, with real requests, that the endpoint refuses a
// second conditional PUT of one key. It writes a probe object under _lakectl/probe/
// twice and deletes it. A *ConditionalWritesError means the endpoint ignored the
// condition; any other error means the probe could not run (permissions, network).
func (s *Store) CheckConditionalWrites(ctx context.Context) error {
	return CheckConditionalWrites(ctx, s, s.String())
}

// CheckConditionalWrites runs the probe of (*Store).CheckConditionalWrites on any
// store, for example one wrapped in lake.WithRetry; where names it in errors.
func CheckConditionalWrites(ctx context.Context, store lake.Store, where string) error {
	key := probePrefix + rand.Text()
	// Distinct contents: if a retry decorator resolves an unknown outcome by reading the
	// object back, the second write cannot pass for the first.
	if err := store.PutIfAbsent(ctx, key, []byte("first")); err != nil {
		return fmt.Errorf("check conditional writes on %s: first probe: %w", where, err)
	}
	second := store.PutIfAbsent(ctx, key, []byte("second"))
	if err := store.Delete(ctx, key); err != nil {
		return fmt.Errorf("check conditional writes on %s: delete probe %s: %w", where, key, err)
	}
	switch {
	case second == nil:
		return &ConditionalWritesError{Where: where}
	case !errors.Is(second, lake.ErrExists):
		return fmt.Errorf("check conditional writes on %s: second probe: %w", where, second)
	}
	return nil
}
