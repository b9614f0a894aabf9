package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/lakectl/lakectl/internal/e2e"
)

// TestHTTPConcurrentClients: gen posts from 8 concurrent clients; every event that
// ingest acknowledged is in Bronze exactly once, and nothing else is.
func TestHTTPConcurrentClients(t *testing.T) {
	lk := localLake(t)
	addr := e2e.FreeAddr(t)
	ing := start(t, "ingest", nil, "ingest", "--lake", lk.url, "--http", addr, "--token", "s3cret", "--log-level", "warn")
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ingest did not come up on %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	g := start(t, "gen", nil, "gen", "--url", "http://"+addr+"/v1/streams/web/events", "--token", "s3cret",
		"--count", "20000", "--batch", "50", "--concurrency", "8", "--seed", "9", "--duplicates", "0.02", "--malformed", "0.02")
	sum := e2e.GenSummary(t, g)
	if sum.Sent != 20000 || sum.Failed != 0 {
		t.Fatalf("gen: sent %d, failed %d", sum.Sent, sum.Failed)
	}
	ing.Term(t)

	rep := verify(t, nil, "--lake", lk.url, "--stream", "web")
	if rep.HTTPRows != sum.Sent || rep.Rows != sum.Sent || rep.HTTP.Next != sum.Sent {
		t.Errorf("Bronze: %d rows (%d from HTTP, ledger %d), want %d as acknowledged", rep.Rows, rep.HTTPRows, rep.HTTP.Next, sum.Sent)
	}
}
