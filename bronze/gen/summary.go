package gen

import (
	"sync"
	"time"
)

// Summary is what was sent and acknowledged, printed as JSON at the end of a run.
// Sent counts acknowledged events; Failed counts events the target did not
// acknowledge (they may or may not have arrived).
type Summary struct {
	Target         string `json:"target"`
	Sent           int64  `json:"sent"`
	UniqueEventIDs int64  `json:"unique_event_ids"`
	Duplicates     int64  `json:"duplicates"`
	Late           int64  `json:"late"`
	Malformed      int64  `json:"malformed"`
	Failed         int64  `json:"failed"`
	// FirstError is why the first unacknowledged event failed, e.g. "HTTP 404: unknown
	// stream"; empty when every event was acknowledged.
	FirstError   string  `json:"first_error,omitempty"`
	Bytes        int64   `json:"bytes"`
	Seconds      float64 `json:"seconds"`
	EventsPerSec float64 `json:"events_per_sec"`
}

// tally builds a Summary from acknowledgements, from any goroutine.
type tally struct {
	mu    sync.Mutex
	s     Summary
	ids   map[uint64]struct{}
	start time.Time
}

func newTally(target string) *tally {
	return &tally{s: Summary{Target: target}, ids: map[uint64]struct{}{}, start: time.Now()}
}

func (t *tally) ack(kind Kind, id uint64, size int, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err != nil {
		if t.s.Failed == 0 {
			t.s.FirstError = err.Error()
		}
		t.s.Failed++
		return
	}
	t.s.Sent++
	t.s.Bytes += int64(size)
	switch kind {
	case Duplicate:
		t.s.Duplicates++
	case Late:
		t.s.Late++
	case Malformed:
		t.s.Malformed++
	}
	if kind != Malformed {
		t.ids[id] = struct{}{}
	}
}

func (t *tally) summary() Summary {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.s
	s.UniqueEventIDs = int64(len(t.ids))
	s.Seconds = time.Since(t.start).Seconds()
	if s.Seconds > 0 {
		s.EventsPerSec = float64(s.Sent) / s.Seconds
	}
	return s
}

// pacer spaces sends to a rate; a zero rate never waits.
type pacer struct {
	rate  float64
	start time.Time
}

func (p pacer) wait(i int64, done <-chan struct{}) bool {
	if p.rate <= 0 {
		return true
	}
	due := p.start.Add(time.Duration(float64(i) / p.rate * float64(time.Second)))
	d := time.Until(due)
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-done:
		return false
	}
}
