package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestGenSaysWhyEventsFailed: when the target refuses events, gen's error carries the
// first refusal, so a user sees "unknown stream" rather than a bare count.
func TestGenSaysWhyEventsFailed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":"unknown stream \"nope\""}`, http.StatusNotFound)
	}))
	defer srv.Close()
	res := runLakectl(t, "gen", "--url", srv.URL+"/v1/streams/nope/events", "--count", "5")
	if res.exitCode == 0 {
		t.Fatalf("gen to a refusing target exited 0\nstdout: %s", res.stdout)
	}
	for _, want := range []string{"5 of 5 events were not acknowledged", "404", "unknown stream"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("stderr %q does not contain %q", res.stderr, want)
		}
	}
	if !strings.Contains(res.stdout, `"first_error"`) {
		t.Errorf("summary %q has no first_error", res.stdout)
	}
}
