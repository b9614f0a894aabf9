// Package wait holds the one way lakectl's retry loops pause: a sleep that ends
// early when its context does.
//
//	if err := wait.Sleep(ctx, delay); err != nil {
//		return err // ctx ended first
//	}
package wait

import (
	"context"
	"time"
)

// Sleep waits for d, or until ctx ends, and then returns ctx.Err(): nil when the
// whole duration passed.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
