package bronze

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/lakectl/lakectl/internal/wait"
	"github.com/lakectl/lakectl/lake"
)

// backoff retries op while it fails with an error that may go away by itself (see
// retryable), until it succeeds or ctx ends. Object-store outages are waited out
// here rather than surfaced, because the data is still in Kafka or in the caller's
// hands: nothing is lost by waiting, and nothing is duplicated because every write
// is guarded by the ledger. Any other error is returned at once: a log that does
// not parse or a refused protocol stays so however long ingest waits.
func backoff(ctx context.Context, log *slog.Logger, what string, op func() error) error {
	delay := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := op()
		if err == nil || !retryable(err) || ctx.Err() != nil {
			return err
		}
		log.Warn("retrying", "op", what, "attempt", attempt, "delay", delay, "err", err)
		if wait.Sleep(ctx, delay) != nil {
			return err
		}
		delay = min(delay*2, 10*time.Second)
	}
}

// retryable reports whether err may go away if the operation is tried again: the
// store's backends mark network errors, 5xx answers, throttling and timeouts as
// lake.Transient, and a commit that lost to a concurrent one succeeds after
// re-reading the log. Everything else (a corrupt log, an unsupported protocol
// feature, a schema mismatch, permission denied, a missing bucket) is permanent and
// stops ingest with the error.
func retryable(err error) bool {
	var conflict *lake.ConflictError
	return lake.IsTransient(err) || errors.As(err, &conflict)
}
