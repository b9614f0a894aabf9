package bronze

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/mem"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// gateStore holds the first commit of the Delta log until release is closed.
type gateStore struct {
	lake.Store
	once    sync.Once
	entered chan struct{}
	release chan struct{}
}

func (s *gateStore) PutIfAbsent(ctx context.Context, key string, data []byte) error {
	if strings.Contains(key, "_delta_log/") {
		s.once.Do(func() {
			close(s.entered)
			<-s.release
		})
	}
	return s.Store.PutIfAbsent(ctx, key, data)
}

// postKeyed POSTs body as producer's batch seq and decodes a 200's answer.
func postKeyed(ctx context.Context, url, producer string, seq int64, body string) (int, IngestResponse, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return 0, IngestResponse{}, err
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set(HeaderProducer, producer)
	req.Header.Set(HeaderSeq, strconv.FormatInt(seq, 10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, IngestResponse{}, err
	}
	defer resp.Body.Close()
	var got IngestResponse
	if resp.StatusCode == http.StatusOK {
		err = json.NewDecoder(resp.Body).Decode(&got)
	}
	return resp.StatusCode, got, err
}

// payloads counts the HTTP rows of stream by payload.
func payloads(t *testing.T, store lake.Store, stream string) (map[string]int, Ledger) {
	t.Helper()
	rows, ledger := latestRows(t, store, stream)
	seen := map[string]int{}
	for _, r := range rows {
		seen[string(r.Payload)]++
	}
	return seen, ledger
}

// A client that gave up on a request whose commit then landed (the outcome was
// unknown to it) retries with the same producer and sequence number: the retry is
// acknowledged without writing, and the events are in Bronze once.
func TestHTTPRetryAfterUnknownOutcomeNeverDoubles(t *testing.T) {
	store := &gateStore{Store: mem.New(), entered: make(chan struct{}), release: make(chan struct{})}
	s, stop := runService(t, Config{Store: store, HTTPAddr: "127.0.0.1:0", Compact: CompactConfig{Off: true}})
	url := "http://" + s.Addr() + "/v1/streams/web/events"

	ctx, giveUp := context.WithCancel(t.Context())
	sent := make(chan error, 1)
	go func() {
		_, _, err := postKeyed(ctx, url, "p-1", 1, "{\"e\":1}\n{\"e\":2}\n")
		sent <- err
	}()
	<-store.entered // the commit is being written
	giveUp()
	if err := <-sent; !errors.Is(err, context.Canceled) {
		t.Fatalf("first attempt: got %v, want the client to give up", err)
	}
	close(store.release) // ...and the commit lands

	code, got, err := postKeyed(t.Context(), url, "p-1", 1, "{\"e\":1}\n{\"e\":2}\n")
	if err != nil || code != http.StatusOK || got.Accepted != 2 || !got.Duplicate {
		t.Fatalf("retry: %d %+v %v, want 200 accepting 2 events as a duplicate", code, got, err)
	}
	code, got, err = postKeyed(t.Context(), url, "p-1", 2, "{\"e\":3}\n")
	if err != nil || code != http.StatusOK || got.Accepted != 1 || got.Duplicate {
		t.Fatalf("next batch: %d %+v %v, want 200 accepting 1 new event", code, got, err)
	}
	// A late retry of an older batch is still not written again.
	if code, got, err = postKeyed(t.Context(), url, "p-1", 1, "{\"e\":1}\n{\"e\":2}\n"); err != nil || code != http.StatusOK || !got.Duplicate {
		t.Fatalf("late retry: %d %+v %v, want 200 as a duplicate", code, got, err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	seen, ledger := payloads(t, store, "web")
	for _, p := range []string{`{"e":1}`, `{"e":2}`, `{"e":3}`} {
		if seen[p] != 1 {
			t.Errorf("event %s: in Bronze %d times, want once", p, seen[p])
		}
	}
	if len(seen) != 3 || ledger.HTTPNext != 3 {
		t.Errorf("Bronze holds %d distinct events, ledger %d; want 3 and 3", len(seen), ledger.HTTPNext)
	}
	if v := ledger.Producers[HTTPProducerAppID("web", "p-1")]; v != 2 {
		t.Errorf("producer p-1's recorded seq: got %d, want 2", v)
	}
	if n := counterValue(s.Metrics().HTTPDuplicates.WithLabelValues("web")); n != 2 {
		t.Errorf("duplicate requests counted: got %v, want 2", n)
	}
}

// The same keyed batch reaching two replicas at once (a client retrying on another
// one), or twice in one group commit, is written once.
func TestHTTPKeyedBatchIsWrittenOnceAcrossReplicasAndWithinABatch(t *testing.T) {
	store := mem.New()
	m := NewMetrics(nil)
	files := FileOptions{}.withDefaults()
	cfg := HTTPConfig{}.withDefaults()
	batcher := func() *httpBatcher {
		w := newTableWriter(store, "web", testLogger(t), m)
		return newHTTPBatcher(w, cfg, files, layout.DefaultGrace, time.Now, t.Context(),
			func(err error) { t.Errorf("batcher failed: %v", err) }, m, testLogger(t))
	}
	req := func(producer string, seq int64, lines ...string) *httpReq {
		r := &httpReq{producer: producer, seq: seq, received: time.Now(), done: make(chan httpResult, 1)}
		for _, l := range lines {
			r.lines = append(r.lines, []byte(l))
		}
		return r
	}
	// Two replicas, one batch each, racing on the table.
	var wg sync.WaitGroup
	results := make([][]IngestResponse, 2)
	for i := range 2 {
		b := batcher()
		wg.Go(func() {
			res, err := b.commit(t.Context(), []*httpReq{req("p-a", 7, `{"a":1}`, `{"a":2}`)})
			if err != nil {
				t.Error(err)
			}
			results[i] = res
		})
	}
	wg.Wait()
	if dups := btoi(results[0][0].Duplicate) + btoi(results[1][0].Duplicate); dups != 1 {
		t.Errorf("replicas: %+v, want exactly one duplicate", results)
	}
	// One group commit holding a batch and its retry, and a producer's next batch.
	res, err := batcher().commit(t.Context(), []*httpReq{
		req("p-b", 1, `{"b":1}`), req("p-b", 1, `{"b":1}`), req("p-b", 2, `{"b":2}`), req("", 0, `{"c":1}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res[1].Duplicate || res[0].Duplicate || res[2].Duplicate || res[3].Duplicate {
		t.Errorf("one batch: %+v, want only the second request a duplicate", res)
	}
	seen, ledger := payloads(t, store, "web")
	for _, p := range []string{`{"a":1}`, `{"a":2}`, `{"b":1}`, `{"b":2}`, `{"c":1}`} {
		if seen[p] != 1 {
			t.Errorf("event %s: in Bronze %d times, want once", p, seen[p])
		}
	}
	if ledger.HTTPNext != 5 || ledger.Producers[HTTPProducerAppID("web", "p-b")] != 2 {
		t.Errorf("ledger: next %d, producers %v; want 5 and p-b at 2", ledger.HTTPNext, ledger.Producers)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}
