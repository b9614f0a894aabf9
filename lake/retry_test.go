package lake_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/fs"
	"github.com/lakectl/lakectl/lake/mem"
)

// flaky wraps a store; fail decides, per call of an operation, whether and how that
// call fails instead of reaching the store.
type flaky struct {
	lake.Store
	calls map[string]*atomic.Int64
	fail  func(op string, call int64) error
	// lostReply makes a failing PutIfAbsent first reach the store, as when a request
	// succeeds and its reply is lost.
	lostReply bool
	// partialPut makes a failing Put consume its reader first.
	partialPut bool
}

func newFlaky(fail func(op string, call int64) error) *flaky {
	f := &flaky{Store: mem.New(), calls: map[string]*atomic.Int64{}, fail: fail}
	for _, op := range []string{"get", "put", "put-if-absent", "stat", "list", "delete"} {
		f.calls[op] = new(atomic.Int64)
	}
	return f
}

func (f *flaky) check(op string) error { return f.fail(op, f.calls[op].Add(1)) }

func (f *flaky) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := f.check("get"); err != nil {
		return nil, err
	}
	return f.Store.Get(ctx, key)
}

func (f *flaky) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if err := f.check("put"); err != nil {
		if f.partialPut {
			io.CopyN(io.Discard, r, 3)
		}
		return err
	}
	return f.Store.Put(ctx, key, r, size)
}

func (f *flaky) PutIfAbsent(ctx context.Context, key string, data []byte) error {
	if err := f.check("put-if-absent"); err != nil {
		if f.lostReply {
			f.Store.PutIfAbsent(ctx, key, data)
		}
		return err
	}
	return f.Store.PutIfAbsent(ctx, key, data)
}

func (f *flaky) Stat(ctx context.Context, key string) (lake.ObjectInfo, error) {
	if err := f.check("stat"); err != nil {
		return lake.ObjectInfo{}, err
	}
	return f.Store.Stat(ctx, key)
}

var (
	errTimeout = lake.Transient(errors.New("i/o timeout"))
	errDenied  = errors.New("access denied")
)

// failFirst fails the first n calls of op with err.
func failFirst(op string, n int64, err error) func(string, int64) error {
	return func(o string, call int64) error {
		if o == op && call <= n {
			return err
		}
		return nil
	}
}

var fast = lake.RetryConfig{MaxAttempts: 5, BaseDelay: time.Microsecond, MaxDelay: time.Millisecond}

func TestRetryTransientUntilSuccess(t *testing.T) {
	f := newFlaky(failFirst("stat", 3, errTimeout))
	f.Store.PutIfAbsent(t.Context(), "k", []byte("v"))
	info, err := lake.WithRetry(f, fast).Stat(t.Context(), "k")
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	if info.Size != 1 {
		t.Errorf("Stat size %d, want 1", info.Size)
	}
	if got := f.calls["stat"].Load(); got != 4 {
		t.Errorf("attempts = %d, want 4 (3 failures, 1 success)", got)
	}
}

func TestRetryPermanentErrorOnce(t *testing.T) {
	for name, err := range map[string]error{"permanent": errDenied, "not found": nil} {
		t.Run(name, func(t *testing.T) {
			f := newFlaky(failFirst("stat", 100, err))
			_, got := lake.WithRetry(f, fast).Stat(t.Context(), "missing")
			if got == nil {
				t.Fatal("Stat succeeded")
			}
			if n := f.calls["stat"].Load(); n != 1 {
				t.Errorf("attempts = %d, want 1", n)
			}
		})
	}
}

func TestRetryBoundedAttempts(t *testing.T) {
	f := newFlaky(failFirst("get", 100, errTimeout))
	_, err := lake.WithRetry(f, fast).Get(t.Context(), "k")
	if !lake.IsTransient(err) || !strings.Contains(err.Error(), "gave up after 5 attempts") {
		t.Errorf("error = %v, want the transient error after 5 attempts", err)
	}
	if n := f.calls["get"].Load(); n != 5 {
		t.Errorf("attempts = %d, want 5", n)
	}
}

func TestRetryStopsWhenContextDone(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	f := newFlaky(func(op string, call int64) error {
		cancel() // the context ends during the first attempt
		return errTimeout
	})
	// The backoff is long enough that only cancellation can end the wait.
	_, err := lake.WithRetry(f, lake.RetryConfig{BaseDelay: time.Hour, MaxDelay: time.Hour}).Get(ctx, "k")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
	if n := f.calls["get"].Load(); n != 1 {
		t.Errorf("attempts = %d, want 1", n)
	}
}

func TestRetryPutIfAbsentLostReplyIsOurWin(t *testing.T) {
	f := newFlaky(failFirst("put-if-absent", 1, errTimeout))
	f.lostReply = true
	commit := []byte(`{"commitInfo":{"txnId":"a1"}}`)
	if err := lake.WithRetry(f, fast).PutIfAbsent(t.Context(), "_delta_log/1.json", commit); err != nil {
		t.Fatalf("PutIfAbsent whose first reply was lost: %v, want success", err)
	}
	if n := f.calls["put-if-absent"].Load(); n != 2 {
		t.Errorf("attempts = %d, want 2", n)
	}
}

func TestRetryPutIfAbsentLostToAnother(t *testing.T) {
	f := newFlaky(func(op string, call int64) error {
		if op == "put-if-absent" && call == 1 {
			return errTimeout // our attempt did not land...
		}
		return nil
	})
	// ...and a concurrent committer took the version meanwhile.
	f.Store.PutIfAbsent(t.Context(), "_delta_log/1.json", []byte(`{"txnId":"theirs"}`))
	err := lake.WithRetry(f, fast).PutIfAbsent(t.Context(), "_delta_log/1.json", []byte(`{"txnId":"ours"}`))
	if !errors.Is(err, lake.ErrExists) {
		t.Errorf("error = %v, want lake.ErrExists", err)
	}
}

func TestRetryPutIfAbsentPlainLossReadsNothing(t *testing.T) {
	f := newFlaky(func(string, int64) error { return nil })
	f.Store.PutIfAbsent(t.Context(), "k", []byte("theirs"))
	err := lake.WithRetry(f, fast).PutIfAbsent(t.Context(), "k", []byte("theirs"))
	if !errors.Is(err, lake.ErrExists) {
		t.Errorf("error = %v, want lake.ErrExists even with equal bytes: no attempt of ours was in doubt", err)
	}
	if n := f.calls["get"].Load(); n != 0 {
		t.Errorf("read back %d times, want 0", n)
	}
}

func TestRetryPutRewindsSeekableReader(t *testing.T) {
	f := newFlaky(failFirst("put", 2, errTimeout))
	f.partialPut = true
	data := []byte("the whole object")
	if err := lake.WithRetry(f, fast).Put(t.Context(), "k", bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	got, err := lake.ReadAll(t.Context(), f.Store, "k")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Errorf("stored %q, want %q", got, data)
	}
}

func TestRetryPutNonSeekableOnce(t *testing.T) {
	f := newFlaky(failFirst("put", 1, errTimeout))
	err := lake.WithRetry(f, fast).Put(t.Context(), "k", io.MultiReader(strings.NewReader("x")), 1)
	if !lake.IsTransient(err) {
		t.Errorf("error = %v, want the transient error", err)
	}
	if n := f.calls["put"].Load(); n != 1 {
		t.Errorf("attempts = %d, want 1: a consumed stream cannot be sent again", n)
	}
}

func TestDecoratorsKeepLocalStore(t *testing.T) {
	s, err := fs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for name, wrapped := range map[string]lake.Store{
		"retry":   lake.WithRetry(s, fast),
		"metrics": lake.NewMetrics(nil).Wrap(s, "file"),
	} {
		ls, ok := wrapped.(lake.LocalStore)
		if !ok {
			t.Errorf("%s: wrapped fs.Store is not a lake.LocalStore", name)
			continue
		}
		if got, want := ls.LocalPath("a/b"), s.LocalPath("a/b"); got != want {
			t.Errorf("%s: LocalPath = %q, want %q", name, got, want)
		}
	}
	if _, ok := lake.WithRetry(mem.New(), fast).(lake.LocalStore); ok {
		t.Error("wrapped mem.Store claims to be a lake.LocalStore")
	}
}

func TestIsTransient(t *testing.T) {
	if lake.Transient(nil) != nil {
		t.Error("Transient(nil) != nil")
	}
	base := errors.New("503 SlowDown")
	wrapped := lake.Transient(base)
	if !lake.IsTransient(wrapped) || !errors.Is(wrapped, base) || wrapped.Error() != base.Error() {
		t.Errorf("Transient(%v) = %v: want transient, wrapping the original, with its message", base, wrapped)
	}
	if !lake.IsTransient(errors.Join(errors.New("put x"), wrapped)) {
		t.Error("a transient error wrapped again is not transient")
	}
	if lake.IsTransient(base) {
		t.Error("an unmarked error is transient")
	}
}
