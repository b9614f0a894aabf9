package main

import (
	"testing"
	"time"

	"github.com/lakectl/lakectl/bronze"
	"github.com/lakectl/lakectl/pipeline"
)

// The HTTP timeouts come from a flag, else its LAKECTL_* variable, else
// lakectl.yaml, else the default.
func TestIngestHTTPTimeoutPrecedence(t *testing.T) {
	p, err := pipeline.Parse("lakectl.yaml", []byte("http:\n  body_timeout: 1m\n  stall_timeout: 7s\n  idle_timeout: 2m\n"), pipeline.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("LAKECTL_HTTP_STALL_TIMEOUT", "3s")
	cmd := newIngestCmd()
	if err := cmd.Flags().Parse([]string{"--http-idle-timeout", "30s"}); err != nil {
		t.Fatal(err)
	}
	if err := applyEnv(cmd); err != nil {
		t.Fatal(err)
	}
	flag := func(name string) time.Duration {
		d, err := cmd.Flags().GetDuration(name)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	s := ingestSettings{httpTimeouts: bronze.HTTPConfig{
		HeaderTimeout: flag("http-header-timeout"), BodyTimeout: flag("http-body-timeout"),
		StallTimeout: flag("http-stall-timeout"), IdleTimeout: flag("http-idle-timeout"),
	}}
	applyPipeline(cmd, p, &s)
	got := s.httpTimeouts
	want := bronze.HTTPConfig{HeaderTimeout: 10 * time.Second, BodyTimeout: time.Minute, StallTimeout: 3 * time.Second, IdleTimeout: 30 * time.Second}
	if got.HeaderTimeout != want.HeaderTimeout || got.BodyTimeout != want.BodyTimeout || got.StallTimeout != want.StallTimeout || got.IdleTimeout != want.IdleTimeout {
		t.Errorf("timeouts (header, body, stall, idle): got %v %v %v %v, want %v (default) %v (file) %v (variable) %v (flag)",
			got.HeaderTimeout, got.BodyTimeout, got.StallTimeout, got.IdleTimeout,
			want.HeaderTimeout, want.BodyTimeout, want.StallTimeout, want.IdleTimeout)
	}
}
