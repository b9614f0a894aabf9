package s3_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lakectl/lakectl/internal/s3server"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/mem"
	"github.com/lakectl/lakectl/lake/s3"
	"github.com/lakectl/lakectl/lake/storetest"
)

var kinds = []string{s3server.VersityGW, s3server.MinIO}

// withRetry wraps a store as lake/stores does, with short waits for a local server.
func withRetry(s lake.Store) lake.Store {
	return lake.WithRetry(s, lake.RetryConfig{BaseDelay: 5 * time.Millisecond, MaxDelay: 200 * time.Millisecond, MaxAttempts: 10})
}

// TestContract runs the store contract against real S3 servers on loopback, the store
// wrapped in the retry decorator as lake/stores opens it: concurrent conditional PUTs
// may get 409 (one in flight), which is transient by contract.
func TestContract(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			srv := s3server.Start(t, kind)
			storetest.Run(t, func(t *testing.T) lake.Store { return withRetry(srv.Store(t)) })
		})
	}
}

func TestCheckConditionalWritesAcceptsRealServers(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			srv := s3server.Start(t, kind)
			store := srv.Store(t)
			if err := store.CheckConditionalWrites(t.Context()); err != nil {
				t.Fatalf("CheckConditionalWrites: %v", err)
			}
			left, err := store.List(t.Context(), "", "")
			if err != nil {
				t.Fatal(err)
			}
			if len(left) != 0 {
				t.Errorf("probe left objects behind: %v", left)
			}
		})
	}
}

// ignoresCondition stands in for an S3 endpoint that ignores If-None-Match: no S3
// server that these tests can start does, so the probe is run against a store whose
// PutIfAbsent overwrites like a plain PUT.
type ignoresCondition struct{ *mem.Store }

func (s ignoresCondition) PutIfAbsent(ctx context.Context, key string, data []byte) error {
	return s.Put(ctx, key, strings.NewReader(string(data)), int64(len(data)))
}

func TestCheckConditionalWritesRefusesStoreIgnoringCondition(t *testing.T) {
	store := ignoresCondition{mem.New()}
	err := s3.CheckConditionalWrites(t.Context(), store, "s3://lake at http://fake")
	var cwErr *s3.ConditionalWritesError
	if !errors.As(err, &cwErr) {
		t.Fatalf("CheckConditionalWrites error = %v, want *s3.ConditionalWritesError", err)
	}
	if !strings.Contains(err.Error(), "http://fake") {
		t.Errorf("error %q does not name the endpoint", err)
	}
	left, err := store.List(t.Context(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("probe left objects behind: %v", left)
	}
	// The honest in-memory store passes the same probe.
	if err := s3.CheckConditionalWrites(t.Context(), mem.New(), "mem"); err != nil {
		t.Errorf("CheckConditionalWrites on mem.Store: %v", err)
	}
}

// TestPrefixesIsolate checks that stores under different prefixes of one bucket see
// only their own objects, and that the prefix is really part of the object name.
func TestPrefixesIsolate(t *testing.T) {
	srv := s3server.Start(t, s3server.VersityGW)
	ctx := t.Context()
	a, err := s3.New(srv.Config("lake-a"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := s3.New(srv.Config("lake-a-b")) // shares a string prefix with lake-a
	if err != nil {
		t.Fatal(err)
	}
	root, err := s3.New(srv.Config(""))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.PutIfAbsent(ctx, "k", []byte("a")); err != nil {
		t.Fatal(err)
	}
	if err := b.PutIfAbsent(ctx, "k", []byte("b")); err != nil {
		t.Fatalf("PutIfAbsent under another prefix: %v", err)
	}
	for _, c := range []struct {
		store *s3.Store
		want  []string
	}{{a, []string{"k"}}, {b, []string{"k"}}, {root, []string{"lake-a-b/k", "lake-a/k"}}} {
		got, err := c.store.List(ctx, "", "")
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, o := range got {
			keys = append(keys, o.Key)
		}
		if !slices.Equal(keys, c.want) {
			t.Errorf("List on %s = %q, want %q", c.store, keys, c.want)
		}
	}
	rc, err := root.Get(ctx, "lake-a/k")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if got, _ := io.ReadAll(rc); string(got) != "a" {
		t.Errorf("lake-a/k = %q, want %q", got, "a")
	}
}
