package gen

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/lakectl/lakectl/internal/wait"
)

// HTTPTarget is an ingest endpoint: events are POSTed as NDJSON batches.
type HTTPTarget struct {
	// URL is the full endpoint, e.g. http://127.0.0.1:8080/v1/streams/events/events.
	URL   string
	Token string
	// Batch is the number of events per request. Default 100.
	Batch int
	// Concurrency is the number of concurrent clients. Default 4.
	Concurrency int
	// Client defaults to a client with a 60 s timeout.
	Client *http.Client
}

type httpBatch struct {
	body  []byte
	kinds []Kind
	ids   []uint64
	sizes []int
}

// ToHTTP sends every event of g in batches from concurrent clients. Each client is
// an idempotent producer of lakectl's HTTP ingest: it sends one batch at a time
// under its own random X-Lakectl-Producer id, numbered by X-Lakectl-Seq, so a batch
// that gets 503 or 408 (nothing stored) or no answer at all (its outcome unknown) is
// retried with the same number, and the server acknowledges a retry of a batch it
// already committed without writing it again. Other answers (4xx), and batches still unanswered
// after the retries, count their events as failed.
func ToHTTP(ctx context.Context, g *Generator, t HTTPTarget) (Summary, error) {
	if t.Batch <= 0 {
		t.Batch = 100
	}
	if t.Concurrency <= 0 {
		t.Concurrency = 4
	}
	if t.Client == nil {
		t.Client = &http.Client{Timeout: 60 * time.Second}
	}
	tl := newTally(t.URL)
	batches := make(chan httpBatch, t.Concurrency)
	var wg sync.WaitGroup
	for range t.Concurrency {
		producer := uuid.NewString()
		wg.Go(func() {
			var seq int64
			for b := range batches {
				seq++
				err := post(ctx, t, producer, seq, b.body)
				for i := range b.kinds {
					tl.ack(b.kinds[i], b.ids[i], b.sizes[i], err)
				}
			}
		})
	}
	p := pacer{rate: g.cfg.Rate, start: time.Now()}
	var cur httpBatch
	for i := int64(0); !g.Done() && ctx.Err() == nil; i++ {
		if !p.wait(i, ctx.Done()) {
			break
		}
		_, payload, kind, id := g.Next()
		cur.body = append(append(cur.body, payload...), '\n')
		cur.kinds = append(cur.kinds, kind)
		cur.ids = append(cur.ids, id)
		cur.sizes = append(cur.sizes, len(payload))
		if len(cur.kinds) == t.Batch || (g.cfg.Rate > 0 && g.cfg.Rate < float64(t.Batch)) {
			batches <- cur
			cur = httpBatch{}
		}
	}
	if len(cur.kinds) > 0 {
		batches <- cur
	}
	close(batches)
	wg.Wait()
	return tl.summary(), ctx.Err()
}

// post sends one batch, retrying (with the same producer and seq) while the
// server answers 503 or 408 or does not answer.
func post(ctx context.Context, t HTTPTarget, producer string, seq int64, body []byte) error {
	delay := 50 * time.Millisecond
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.URL, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-ndjson")
		req.Header.Set("X-Lakectl-Producer", producer)
		req.Header.Set("X-Lakectl-Seq", strconv.FormatInt(seq, 10))
		if t.Token != "" {
			req.Header.Set("Authorization", "Bearer "+t.Token)
		}
		resp, err := t.Client.Do(req)
		switch {
		case err != nil && (ctx.Err() != nil || attempt >= 20):
			return fmt.Errorf("post %s: %w", t.URL, err)
		case err != nil:
			// No answer: the batch may be committed; the retry finds out.
		default:
			msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			switch {
			case resp.StatusCode == http.StatusOK:
				return nil
			case !retryable(resp.StatusCode) || attempt >= 20:
				return fmt.Errorf("post %s: %s: %s", t.URL, resp.Status, bytes.TrimSpace(msg))
			}
		}
		if err := wait.Sleep(ctx, delay); err != nil {
			return err
		}
		delay = min(delay*2, 2*time.Second)
	}
}

// retryable reports whether an answer leaves the batch worth sending again: 503 (not
// committed, or outcome unknown) and 408 (the body arrived too slowly; nothing was
// stored). Every other answer is final.
func retryable(status int) bool {
	return status == http.StatusServiceUnavailable || status == http.StatusRequestTimeout
}
