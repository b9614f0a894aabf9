package lake

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/lakectl/lakectl/internal/wait"
)

// Transient marks err as worth retrying: the operation may succeed if tried again
// (a network error, a 5xx, SlowDown, a conditional write that collided with another one
// in progress). Backends wrap such errors so that the retry decorator recognises them
// without knowing the backend. A nil err stays nil.
func Transient(err error) error {
	if err == nil {
		return nil
	}
	return &transientError{err: err}
}

// IsTransient reports whether err, or an error it wraps, was marked by Transient.
func IsTransient(err error) bool {
	var t *transientError
	return errors.As(err, &t)
}

type transientError struct{ err error }

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }

// RetryConfig sets the retry decorator's backoff. The zero value is usable: every field
// has a documented default.
type RetryConfig struct {
	// MaxAttempts bounds the attempts per operation, the first one included.
	// Default 6.
	MaxAttempts int
	// BaseDelay is the backoff before the second attempt; it doubles per attempt, and
	// each wait is drawn uniformly from [0, backoff) ("full jitter"). Default 100ms.
	BaseDelay time.Duration
	// MaxDelay caps the backoff. Default 5s.
	MaxDelay time.Duration
	// Logger receives one debug line per retried attempt. Default: discard.
	Logger *slog.Logger
}

func (c RetryConfig) withDefaults() RetryConfig {
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 6
	}
	if c.BaseDelay <= 0 {
		c.BaseDelay = 100 * time.Millisecond
	}
	if c.MaxDelay <= 0 {
		c.MaxDelay = 5 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// WithRetry wraps s so that operations failing with a transient error (see IsTransient)
// are retried with exponential backoff and jitter, at most cfg.MaxAttempts times, and
// never after ctx is done.
//
// Get and GetRange retry opening the object, not errors while reading its body. Put is
// retried only when r is an io.Seeker, because a retry must send the same bytes again.
//
// PutIfAbsent needs care: once an attempt failed transiently its outcome is unknown (the
// server may have stored the object and the reply got lost), so an ErrExists on a later
// attempt may be our own earlier write. The decorator then reads the object back and
// reports success when it holds exactly data. That is sound because callers write unique
// contents under such keys (a Delta commit carries a random transaction id).
//
// If s is a LocalStore, so is the result.
func WithRetry(s Store, cfg RetryConfig) Store {
	r := &retryStore{next: s, cfg: cfg.withDefaults()}
	if ls, ok := s.(LocalStore); ok {
		return &localRetryStore{retryStore: r, local: ls}
	}
	return r
}

type retryStore struct {
	next Store
	cfg  RetryConfig
}

type localRetryStore struct {
	*retryStore
	local LocalStore
}

func (s *localRetryStore) LocalPath(key string) string { return s.local.LocalPath(key) }

// do runs fn until it succeeds, fails with a permanent error, runs out of attempts, or
// ctx is done. before, if set, runs ahead of every retry (not the first attempt).
func (s *retryStore) do(ctx context.Context, op, key string, before func() error, fn func() error) error {
	var err error
	for attempt := 0; ; attempt++ {
		if attempt > 0 && before != nil {
			if berr := before(); berr != nil {
				return fmt.Errorf("%s %s: prepare retry after %w: %w", op, key, err, berr)
			}
		}
		err = fn()
		if err == nil || !IsTransient(err) {
			return err
		}
		if attempt+1 >= s.cfg.MaxAttempts {
			return fmt.Errorf("%s %s: gave up after %d attempts: %w", op, key, attempt+1, err)
		}
		delay := s.backoff(attempt)
		s.cfg.Logger.DebugContext(ctx, "retrying store operation",
			"op", op, "key", key, "attempt", attempt+1, "wait", delay, "err", err)
		if serr := wait.Sleep(ctx, delay); serr != nil {
			return fmt.Errorf("%s %s: %w (last error: %w)", op, key, serr, err)
		}
	}
}

// backoff returns the wait before attempt+1: uniform in [0, min(MaxDelay, Base*2^attempt)).
func (s *retryStore) backoff(attempt int) time.Duration {
	ceiling := s.cfg.MaxDelay
	if attempt < 30 {
		ceiling = min(ceiling, s.cfg.BaseDelay<<attempt)
	}
	return time.Duration(rand.Int64N(int64(ceiling) + 1))
}

func (s *retryStore) Get(ctx context.Context, key string) (rc io.ReadCloser, err error) {
	err = s.do(ctx, "get", key, nil, func() error {
		rc, err = s.next.Get(ctx, key)
		return err
	})
	return rc, err
}

func (s *retryStore) GetRange(ctx context.Context, key string, offset, length int64) (rc io.ReadCloser, err error) {
	err = s.do(ctx, "get range", key, nil, func() error {
		rc, err = s.next.GetRange(ctx, key, offset, length)
		return err
	})
	return rc, err
}

func (s *retryStore) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	seeker, ok := r.(io.Seeker)
	if !ok {
		return s.next.Put(ctx, key, r, size)
	}
	start, err := seeker.Seek(0, io.SeekCurrent)
	if err != nil {
		return s.next.Put(ctx, key, r, size)
	}
	rewind := func() error {
		_, err := seeker.Seek(start, io.SeekStart)
		return err
	}
	return s.do(ctx, "put", key, rewind, func() error {
		return s.next.Put(ctx, key, r, size)
	})
}

func (s *retryStore) PutIfAbsent(ctx context.Context, key string, data []byte) error {
	unknown := false // an earlier attempt may have stored data
	err := s.do(ctx, "put-if-absent", key, nil, func() error {
		err := s.next.PutIfAbsent(ctx, key, data)
		if IsTransient(err) {
			unknown = true
		}
		return err
	})
	if !unknown || !errors.Is(err, ErrExists) {
		return err
	}
	var got []byte
	rerr := s.do(ctx, "read back", key, nil, func() error {
		var err error
		got, err = ReadAll(ctx, s.next, key)
		return err
	})
	if rerr != nil {
		return fmt.Errorf("put-if-absent %s: outcome unknown, reading it back: %w", key, rerr)
	}
	if bytes.Equal(got, data) {
		s.cfg.Logger.DebugContext(ctx, "put-if-absent won on an attempt whose reply was lost", "key", key)
		return nil
	}
	return err
}

func (s *retryStore) Stat(ctx context.Context, key string) (info ObjectInfo, err error) {
	err = s.do(ctx, "stat", key, nil, func() error {
		info, err = s.next.Stat(ctx, key)
		return err
	})
	return info, err
}

func (s *retryStore) List(ctx context.Context, prefix, startAfter string) (infos []ObjectInfo, err error) {
	err = s.do(ctx, "list", prefix, nil, func() error {
		infos, err = s.next.List(ctx, prefix, startAfter)
		return err
	})
	return infos, err
}

func (s *retryStore) Delete(ctx context.Context, key string) error {
	return s.do(ctx, "delete", key, nil, func() error {
		return s.next.Delete(ctx, key)
	})
}
