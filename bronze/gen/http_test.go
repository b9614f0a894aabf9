package gen

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/lakectl/lakectl/bronze"
	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/mem"
)

// lostAnswers passes requests to the ingest service and replaces the answer to
// every third commit with a 503: the events are committed, the client is told
// otherwise, as when the server cannot learn a commit's outcome in time.
type lostAnswers struct {
	next  http.Handler
	calls atomic.Int64
}

func (l *lostAnswers) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	l.next.ServeHTTP(rec, r)
	if rec.Code == http.StatusOK && l.calls.Add(1)%3 == 1 {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

// gen's retries of batches whose answer was lost are acknowledged without being
// written again: Bronze holds exactly what gen reports as sent.
func TestToHTTPRetriesNeverDouble(t *testing.T) {
	store := mem.New()
	target, stop := startIngest(t, store)
	proxy := &lostAnswers{next: httputil.NewSingleHostReverseProxy(target)}
	front := httptest.NewServer(proxy)
	defer front.Close()

	g := New(Config{Count: 600, Seed: 3, DuplicateFraction: 0.05})
	sum, err := ToHTTP(t.Context(), g, HTTPTarget{URL: front.URL + "/v1/streams/web/events", Batch: 25, Concurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	stop()
	if sum.Sent != 600 || sum.Failed != 0 {
		t.Fatalf("gen: sent %d, failed %d; want 600 and 0", sum.Sent, sum.Failed)
	}
	if proxy.calls.Load() < 2 {
		t.Fatalf("setup: %d commits, want answers lost along the way", proxy.calls.Load())
	}
	checkLedger(t, store, sum.Sent)
}

// timedOut answers every third request 408, as ingest does when a body arrives too
// slowly, without passing it on: nothing of that request is stored.
type timedOut struct {
	next  http.Handler
	calls atomic.Int64
}

func (t *timedOut) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if t.calls.Add(1)%3 == 1 {
		w.WriteHeader(http.StatusRequestTimeout)
		return
	}
	t.next.ServeHTTP(w, r)
}

// A 408 stores nothing, so gen sends the batch again rather than counting it failed.
func TestToHTTPRetriesRequestTimeouts(t *testing.T) {
	store := mem.New()
	target, stop := startIngest(t, store)
	front := httptest.NewServer(&timedOut{next: httputil.NewSingleHostReverseProxy(target)})
	defer front.Close()

	sum, err := ToHTTP(t.Context(), New(Config{Count: 300, Seed: 5}), HTTPTarget{URL: front.URL + "/v1/streams/web/events", Batch: 25, Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	stop()
	if sum.Sent != 300 || sum.Failed != 0 {
		t.Fatalf("gen: sent %d, failed %d; want 300 and 0", sum.Sent, sum.Failed)
	}
	checkLedger(t, store, sum.Sent)
}

// startIngest runs an HTTP ingest service on loopback over store; stop shuts it down
// cleanly and fails the test if it did not.
func startIngest(t *testing.T, store lake.Store) (target *url.URL, stop func()) {
	t.Helper()
	svc, err := bronze.New(bronze.Config{Store: store, HTTPAddr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler),
		Compact: bronze.CompactConfig{Off: true}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	if target, err = url.Parse("http://" + svc.Addr()); err != nil {
		t.Fatal(err)
	}
	return target, func() {
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// checkLedger asserts that Bronze's HTTP ledger of stream web holds exactly sent events.
func checkLedger(t *testing.T, store lake.Store, sent int64) {
	t.Helper()
	snap, err := lake.NewTable(store, layout.TableRoot("web")).Latest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if next := bronze.ReadLedger(snap).HTTPNext; next != sent {
		t.Errorf("Bronze holds %d HTTP events, gen sent %d", next, sent)
	}
}
