package s3server_test

import (
	"context"
	"testing"
	"time"

	"github.com/lakectl/lakectl/internal/s3server"
	"github.com/lakectl/lakectl/lake"
)

// TestFreezeAndRestart: a frozen MinIO answers nothing until thawed; a restarted one
// answers on the same endpoint with the objects it had.
func TestFreezeAndRestart(t *testing.T) {
	srv := s3server.Start(t, s3server.MinIO)
	store := srv.Store(t)
	if err := store.PutIfAbsent(t.Context(), "k", []byte("v")); err != nil {
		t.Fatal(err)
	}

	srv.Freeze(t)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	_, err := store.Stat(ctx, "k")
	cancel()
	if err == nil {
		t.Error("a frozen server answered a request")
	}
	srv.Thaw(t)
	if _, err := store.Stat(t.Context(), "k"); err != nil {
		t.Errorf("after thaw: %v", err)
	}

	endpoint := srv.Endpoint
	srv.Restart(t)
	if srv.Endpoint != endpoint {
		t.Errorf("restarted on %s, want %s", srv.Endpoint, endpoint)
	}
	if got, err := lake.ReadAll(t.Context(), store, "k"); err != nil || string(got) != "v" {
		t.Errorf("after restart: read %q, %v; want the object written before", got, err)
	}
}
