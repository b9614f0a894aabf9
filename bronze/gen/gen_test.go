package gen

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

func TestSameSeedSameStream(t *testing.T) {
	cfg := Config{Count: 500, Seed: 42, DuplicateFraction: 0.1, LateFraction: 0.1, MalformedFraction: 0.1,
		Start: time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)}
	a, b := New(cfg), New(cfg)
	for i := 0; !a.Done(); i++ {
		ka, pa, kinda, _ := a.Next()
		kb, pb, kindb, _ := b.Next()
		if !bytes.Equal(ka, kb) || !bytes.Equal(pa, pb) || kinda != kindb {
			t.Fatalf("event %d differs between two generators of one seed", i)
		}
	}
}

// strict is the seed schema with the types Silver expects.
type strict struct {
	EventID   *string  `json:"event_id"`
	UserID    *string  `json:"user_id"`
	EventType *string  `json:"event_type"`
	Amount    *float64 `json:"amount"`
	Timestamp *string  `json:"timestamp"`
}

func wellFormed(p []byte) bool {
	var s strict
	if json.Unmarshal(p, &s) != nil {
		return false
	}
	if s.EventID == nil || s.UserID == nil || s.EventType == nil || s.Amount == nil || s.Timestamp == nil {
		return false
	}
	_, err := time.Parse(time.RFC3339Nano, *s.Timestamp)
	return err == nil
}

func TestKindsMatchPayloads(t *testing.T) {
	start := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	g := New(Config{Count: 20000, Seed: 7, DuplicateFraction: 0.05, LateFraction: 0.05, MalformedFraction: 0.05, Start: start})
	counts := map[Kind]int{}
	users := map[string]int{}
	for !g.Done() {
		key, p, kind, _ := g.Next()
		counts[kind]++
		if kind == Malformed {
			if wellFormed(p) {
				t.Fatalf("malformed payload parses cleanly: %s", p)
			}
			continue
		}
		if !wellFormed(p) {
			t.Fatalf("%v payload is malformed: %s", kind, p)
		}
		var ev Event
		json.Unmarshal(p, &ev)
		ts, _ := time.Parse(time.RFC3339Nano, ev.Timestamp)
		if kind == Late && !ts.Before(start.Add(20*time.Second).Add(-time.Hour)) {
			t.Errorf("late event at %s is not an hour behind the stream", ts)
		}
		if string(key) != ev.UserID {
			t.Errorf("key %q, user %q", key, ev.UserID)
		}
		users[ev.UserID]++
	}
	for kind, want := range map[Kind]float64{Duplicate: 0.05, Late: 0.05 * 0.9, Malformed: 0.05} {
		got := float64(counts[kind]) / 20000
		if got < want*0.7 || got > want*1.3 {
			t.Errorf("kind %d: fraction %.3f, want about %.3f", kind, got, want)
		}
	}
	// Skew: the most active user sends far more than an average one.
	top := 0
	for _, n := range users {
		top = max(top, n)
	}
	if avg := 20000 / len(users); top < 20*avg {
		t.Errorf("top user sent %d events, average %d: no skew", top, avg)
	}
}
