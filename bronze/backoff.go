package bronze

import (
	"context"
	"log/slog"
	"time"

	"github.com/lakectl/lakectl/internal/wait"
)

// backoff retries op until it succeeds, it returns a permanent error, or ctx ends.
// Object-store and broker outages are waited out here rather than surfaced, because
// the data is still in Kafka or in the caller's hands: nothing is lost by waiting,
// and nothing is duplicated because every write is guarded by the ledger.
func backoff(ctx context.Context, log *slog.Logger, what string, op func() error) error {
	delay := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := op()
		if err == nil || isPermanent(err) {
			return err
		}
		if ctx.Err() != nil {
			return err
		}
		log.Warn("retrying", "op", what, "attempt", attempt, "delay", delay, "err", err)
		if wait.Sleep(ctx, delay) != nil {
			return err
		}
		delay = min(delay*2, 10*time.Second)
	}
}

// permanentError marks an error that retrying cannot fix.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

func permanent(err error) error { return permanentError{err} }

func isPermanent(err error) bool {
	_, ok := err.(permanentError)
	return ok
}
