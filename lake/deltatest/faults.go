package deltatest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lakectl/lakectl/lake"
)

// Faults says how often a FaultStore fails, as probabilities per operation in [0, 1].
// The zero value injects nothing.
type Faults struct {
	// Seed seeds the generator that decides every fault. It fixes the mix of faults,
	// not the schedule: concurrent callers draw from it in the order they arrive.
	Seed uint64
	// Before fails an operation without touching the store underneath.
	Before float64
	// LostReply makes a write (Put, PutIfAbsent, Delete) happen and then reports an
	// error, as when a reply is lost or a connection is reset after the server acted.
	LostReply float64
	// CutRead makes a Get or GetRange return a reader that fails halfway through the
	// body, as when a connection drops mid-transfer.
	CutRead float64
	// Transient is the share of injected errors marked lake.Transient, which the
	// retry decorator (lake.WithRetry) retries; the others reach the caller at once.
	Transient float64
	// MaxLatency delays each operation by a uniform random time below it, which
	// shuffles how concurrent callers interleave. 0: no delay.
	MaxLatency time.Duration
}

// ErrInjected is the error, or the cause of the error, that a FaultStore injects.
var ErrInjected = errors.New("injected fault")

// FaultStore wraps a real lake.Store and injects network faults: failures before the
// operation, writes whose reply is lost, reads cut mid-body, transient errors, and
// latency, each decided by a seeded generator. It stands in for the network between
// lakectl and an object store: mem and file stores never fail this way, and no part of
// the test setup (not even a real S3 server on loopback) drops replies on demand, so
// without it the error paths of commits, checkpoints and vacuum would go untested.
//
//	fs := deltatest.NewFaultStore(mem.New(), deltatest.Faults{Seed: 1, Before: 0.05, LostReply: 0.05})
//	store := lake.WithRetry(fs, lake.RetryConfig{BaseDelay: time.Millisecond})
//	fs.SetEnabled(false) // a clean view for checking the result
//
// Put it below lake.WithRetry, as the network is below the retry decorator in
// production. It is safe for concurrent use.
type FaultStore struct {
	next    lake.Store
	faults  Faults
	enabled atomic.Bool

	mu  sync.Mutex
	rng *rand.Rand

	// Counts of what was injected, for logs and for checking that a run was not clean.
	NBefore, NLostReply, NCutRead atomic.Int64
}

var _ lake.Store = (*FaultStore)(nil)

// NewFaultStore wraps next. Faults are enabled.
func NewFaultStore(next lake.Store, f Faults) *FaultStore {
	s := &FaultStore{next: next, faults: f, rng: rand.New(rand.NewPCG(f.Seed, f.Seed^0x9e3779b97f4a7c15))}
	s.enabled.Store(true)
	return s
}

// SetEnabled turns injection on or off; off, the store passes every call through.
func (s *FaultStore) SetEnabled(on bool) { s.enabled.Store(on) }

// Injected returns how many faults of any kind the store injected.
func (s *FaultStore) Injected() int64 {
	return s.NBefore.Load() + s.NLostReply.Load() + s.NCutRead.Load()
}

// draw decides one operation's fate: a delay, and which fault (if any) to inject.
type fate struct {
	delay     time.Duration
	before    bool
	lostReply bool
	cutRead   bool
	transient bool
}

func (s *FaultStore) draw(write, read bool) fate {
	if !s.enabled.Load() {
		return fate{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var f fate
	if s.faults.MaxLatency > 0 {
		f.delay = time.Duration(s.rng.Int64N(int64(s.faults.MaxLatency)))
	}
	f.transient = s.rng.Float64() < s.faults.Transient
	switch p := s.rng.Float64(); {
	case p < s.faults.Before:
		f.before = true
	case write && p < s.faults.Before+s.faults.LostReply:
		f.lostReply = true
	case read && p < s.faults.Before+s.faults.CutRead:
		f.cutRead = true
	}
	return f
}

// fail returns the injected error for op on key.
func (f fate) fail(op, key, what string) error {
	err := fmt.Errorf("%s %s: %w: %s", op, key, ErrInjected, what)
	if f.transient {
		return lake.Transient(err)
	}
	return err
}

// start sleeps the drawn delay and returns the error to fail with before the
// operation, if any.
func (s *FaultStore) start(ctx context.Context, f fate, op, key string) error {
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if f.before {
		s.NBefore.Add(1)
		return f.fail(op, key, "request not sent")
	}
	return nil
}

// finish turns a successful write into a lost reply when the fate says so.
func (s *FaultStore) finish(f fate, op, key string, err error) error {
	if err != nil || !f.lostReply {
		return err
	}
	s.NLostReply.Add(1)
	return f.fail(op, key, "reply lost after the write")
}

// cut wraps a reader so that it fails halfway when the fate says so.
func (s *FaultStore) cut(f fate, op, key string, rc io.ReadCloser, err error) (io.ReadCloser, error) {
	if err != nil || !f.cutRead {
		return rc, err
	}
	s.NCutRead.Add(1)
	return &cutReader{rc: rc, err: f.fail(op, key, "connection reset mid-body")}, nil
}

func (s *FaultStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	f := s.draw(false, true)
	if err := s.start(ctx, f, "get", key); err != nil {
		return nil, err
	}
	rc, err := s.next.Get(ctx, key)
	return s.cut(f, "get", key, rc, err)
}

func (s *FaultStore) GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	f := s.draw(false, true)
	if err := s.start(ctx, f, "get range", key); err != nil {
		return nil, err
	}
	rc, err := s.next.GetRange(ctx, key, offset, length)
	return s.cut(f, "get range", key, rc, err)
}

func (s *FaultStore) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	f := s.draw(true, false)
	if err := s.start(ctx, f, "put", key); err != nil {
		return err
	}
	return s.finish(f, "put", key, s.next.Put(ctx, key, r, size))
}

func (s *FaultStore) PutIfAbsent(ctx context.Context, key string, data []byte) error {
	f := s.draw(true, false)
	if err := s.start(ctx, f, "put-if-absent", key); err != nil {
		return err
	}
	return s.finish(f, "put-if-absent", key, s.next.PutIfAbsent(ctx, key, data))
}

func (s *FaultStore) Stat(ctx context.Context, key string) (lake.ObjectInfo, error) {
	f := s.draw(false, false)
	if err := s.start(ctx, f, "stat", key); err != nil {
		return lake.ObjectInfo{}, err
	}
	return s.next.Stat(ctx, key)
}

func (s *FaultStore) List(ctx context.Context, prefix, startAfter string) ([]lake.ObjectInfo, error) {
	f := s.draw(false, false)
	if err := s.start(ctx, f, "list", prefix); err != nil {
		return nil, err
	}
	return s.next.List(ctx, prefix, startAfter)
}

func (s *FaultStore) Delete(ctx context.Context, key string) error {
	f := s.draw(true, false)
	if err := s.start(ctx, f, "delete", key); err != nil {
		return err
	}
	return s.finish(f, "delete", key, s.next.Delete(ctx, key))
}

// cutReader passes on part of the first read and then fails, as a body whose
// connection dropped: the caller sees some bytes and then an error, never EOF.
type cutReader struct {
	rc   io.ReadCloser
	err  error
	done bool
}

func (c *cutReader) Read(p []byte) (int, error) {
	if c.done || len(p) < 2 {
		c.done = true
		return 0, c.err
	}
	c.done = true
	n, _ := c.rc.Read(p[:len(p)/2])
	return n, nil
}

func (c *cutReader) Close() error { return c.rc.Close() }
