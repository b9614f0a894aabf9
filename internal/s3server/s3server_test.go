package s3server_test

import (
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/lakectl/lakectl/internal/s3server"
	"github.com/lakectl/lakectl/lake"
)

// TestStart starts each server, writes through it, and checks that the server is gone
// once the test that started it has ended.
func TestStart(t *testing.T) {
	for _, kind := range []string{s3server.VersityGW, s3server.MinIO} {
		var endpoint string
		t.Run(kind, func(t *testing.T) {
			srv := s3server.Start(t, kind)
			endpoint = srv.Endpoint
			if !strings.HasPrefix(srv.Endpoint, "http://127.0.0.1:") {
				t.Errorf("Endpoint = %q, want loopback", srv.Endpoint)
			}
			a, b := srv.Store(t), srv.Store(t)
			if a.Config().Prefix == b.Config().Prefix {
				t.Errorf("two Store calls share prefix %q", a.Config().Prefix)
			}
			if err := a.PutIfAbsent(t.Context(), "k", []byte("v")); err != nil {
				t.Fatal(err)
			}
			if got, err := lake.ReadAll(t.Context(), a, "k"); err != nil || string(got) != "v" {
				t.Errorf("read back %q, %v", got, err)
			}
		})
		if endpoint == "" {
			continue // skipped: no binary
		}
		if resp, err := http.Get(endpoint); err == nil {
			resp.Body.Close()
			t.Errorf("%s still answers at %s after its test ended", kind, endpoint)
		}
	}
}

// recorder is a testing.TB that records Skip and Fatal instead of ending a real test.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper() {}
func (r *recorder) Skip(args ...any) {
	r.skipped = fmt.Sprint(args...)
	runtime.Goexit()
}
func (r *recorder) Fatal(args ...any) {
	r.failed = fmt.Sprint(args...)
	runtime.Goexit()
}

// startWithout runs Start with no server binary to be found.
func startWithout(t *testing.T, ci string) *recorder {
	empty := t.TempDir()
	t.Setenv("PATH", empty)
	t.Setenv("GOPATH", empty)
	t.Setenv("HOME", empty)
	t.Setenv("CI", ci)
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s3server.Start(r, s3server.MinIO)
	}()
	<-done
	return r
}

func TestMissingBinarySkipsWithHint(t *testing.T) {
	r := startWithout(t, "")
	if r.failed != "" || !strings.Contains(r.skipped, "make deps") {
		t.Errorf("skipped %q, failed %q; want a skip that mentions make deps", r.skipped, r.failed)
	}
}

func TestMissingBinaryFailsInCI(t *testing.T) {
	r := startWithout(t, "true")
	if r.skipped != "" || !strings.Contains(r.failed, "make deps") {
		t.Errorf("skipped %q, failed %q; want a failure that mentions make deps", r.skipped, r.failed)
	}
}
