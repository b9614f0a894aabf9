package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/lakectl/lakectl/lake"
)

// pattern returns n deterministic bytes that differ from offset to offset, so that a
// shifted or truncated read does not compare equal.
func pattern(n int) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{'l', 'a', 'k', 'e'})
	r.Read(b)
	return b
}

func testPutReplaces(t *testing.T, s lake.Store) {
	put(t, s, "k", []byte("first version, longer than the second"))
	put(t, s, "k", []byte("second"))
	wantBytes(t, "Get after second Put", get(t, s, "k"), []byte("second"))
	info, err := s.Stat(t.Context(), "k")
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != 6 {
		t.Errorf("Stat after replace: size %d, want 6", info.Size)
	}
	// Put also replaces what PutIfAbsent wrote.
	if err := s.PutIfAbsent(t.Context(), "c", []byte("exclusive")); err != nil {
		t.Fatal(err)
	}
	put(t, s, "c", []byte("replaced"))
	wantBytes(t, "Get after Put over PutIfAbsent", get(t, s, "c"), []byte("replaced"))
}

func testPutIfAbsentExisting(t *testing.T, s lake.Store) {
	ctx := t.Context()
	if err := s.PutIfAbsent(ctx, "log/00.json", []byte("winner")); err != nil {
		t.Fatalf("first PutIfAbsent: %v", err)
	}
	err := s.PutIfAbsent(ctx, "log/00.json", []byte("loser"))
	if !errors.Is(err, lake.ErrExists) {
		t.Fatalf("second PutIfAbsent: error = %v, want lake.ErrExists", err)
	}
	wantBytes(t, "object after losing PutIfAbsent", get(t, s, "log/00.json"), []byte("winner"))
	// An object written by Put counts as existing too.
	put(t, s, "log/01.json", []byte("put"))
	if err := s.PutIfAbsent(ctx, "log/01.json", []byte("loser")); !errors.Is(err, lake.ErrExists) {
		t.Errorf("PutIfAbsent over Put: error = %v, want lake.ErrExists", err)
	}
	wantBytes(t, "object after PutIfAbsent over Put", get(t, s, "log/01.json"), []byte("put"))
}

// testPutIfAbsentRace has writers race for each of many keys, as concurrent committers
// race for the next Delta version: exactly one wins and the object holds its bytes.
func testPutIfAbsentRace(t *testing.T, s lake.Store, opts Options) {
	for round := range opts.RaceRounds {
		key := fmt.Sprintf("_delta_log/%020d.json", round)
		errs := make([]error, opts.RaceWriters)
		bodies := make([][]byte, opts.RaceWriters)
		for w := range bodies {
			bodies[w] = commitBody(round, w)
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for w := range opts.RaceWriters {
			wg.Go(func() {
				<-start
				errs[w] = s.PutIfAbsent(t.Context(), key, bodies[w])
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for w, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("round %d: writers %d and %d both won", round, winner, w)
			case err == nil:
				winner = w
			case !errors.Is(err, lake.ErrExists):
				t.Fatalf("round %d: writer %d: error = %v, want nil or lake.ErrExists", round, w, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no writer won", round)
		}
		wantBytes(t, fmt.Sprintf("round %d: object", round), get(t, s, key), bodies[winner])
	}
}

// commitBody is unique per writer, like a Delta commit with its random txn id.
func commitBody(round, writer int) []byte {
	return fmt.Appendf(nil, `{"commitInfo":{"round":%d,"writer":%d,"txnId":"%x"}}`, round, writer, rand.Uint64())
}

// testLarge writes an object larger than S3 clients' multipart threshold (16 MiB in
// minio-go), once with its size unknown and once known, and reads it back intact.
func testLarge(t *testing.T, s lake.Store, size int64) {
	want := sha256.New()
	if _, err := io.Copy(want, largeReader(size)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		key  string
		size int64
	}{{"large/unknown-size", -1}, {"large/known-size", size}} {
		// Hide any Seek or WriterTo so the backend must stream.
		r := struct{ io.Reader }{largeReader(size)}
		if err := s.Put(t.Context(), c.key, r, c.size); err != nil {
			t.Fatalf("Put(%s, size %d): %v", c.key, c.size, err)
		}
		info, err := s.Stat(t.Context(), c.key)
		if err != nil {
			t.Fatal(err)
		}
		if info.Size != size {
			t.Errorf("Stat(%s): size %d, want %d", c.key, info.Size, size)
		}
		rc, err := s.Get(t.Context(), c.key)
		if err != nil {
			t.Fatal(err)
		}
		got := sha256.New()
		n, err := io.Copy(got, rc)
		rc.Close()
		if err != nil {
			t.Fatalf("Get(%s): read after %d bytes: %v", c.key, n, err)
		}
		if n != size || !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
			t.Errorf("Get(%s): read %d bytes with sha256 %x, want %d bytes with %x", c.key, n, got.Sum(nil), size, want.Sum(nil))
		}
	}
}

func largeReader(size int64) io.Reader {
	return io.LimitReader(rand.NewChaCha8([32]byte{'b', 'i', 'g'}), size)
}

func testCanceled(t *testing.T, s lake.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.PutIfAbsent(ctx, "c", []byte("x")); err == nil {
		t.Error("PutIfAbsent with a canceled context succeeded")
	}
	if err := s.Put(ctx, "p", bytes.NewReader([]byte("x")), 1); err == nil {
		t.Error("Put with a canceled context succeeded")
	}
	if _, err := s.List(ctx, "", ""); err == nil {
		t.Error("List with a canceled context succeeded")
	}
}
