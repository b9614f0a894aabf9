package pipeline

import (
	"errors"
	"testing"
	"time"
)

func TestHTTPTimeouts(t *testing.T) {
	p, err := Parse("dir/lakectl.yaml", []byte("http:\n  header_timeout: 2s\n  body_timeout: 1m\n  stall_timeout: 3s\n  idle_timeout: 90s\n"), Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	got := []time.Duration{p.HTTP.HeaderTimeout, p.HTTP.BodyTimeout, p.HTTP.StallTimeout, p.HTTP.IdleTimeout}
	want := []time.Duration{2 * time.Second, time.Minute, 3 * time.Second, 90 * time.Second}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("timeouts: got %v, want %v", got, want)
			break
		}
	}

	_, err = Parse("dir/lakectl.yaml", []byte("http:\n  body_timeout: -5s\n"), Overrides{})
	var perr *Error
	if !errors.As(err, &perr) || perr.Line != 2 || perr.Key != "http.body_timeout" {
		t.Errorf("negative body_timeout: got %v, want an error at dir/lakectl.yaml:2 http.body_timeout", err)
	}
}
