// Package gen generates a synthetic event stream shaped like the seed schema
// (event_id, user_id, event_type, amount, timestamp as JSON) with the skew and the
// faults of real traffic: a few users and event types dominate, some events are
// resent, some arrive hours or days late, and some payloads are malformed. It sends
// the stream to a Kafka topic or an HTTP ingest endpoint and summarises, from the
// acknowledgements, what it sent, so a pipeline's result can be checked against it.
//
//	g := gen.New(gen.Config{Count: 10000, Seed: 7, DuplicateFraction: 0.02})
//	sum, err := gen.ToKafka(ctx, g, gen.KafkaTarget{Brokers: []string{"127.0.0.1:9092"}, Topic: "events"})
//	json.NewEncoder(os.Stdout).Encode(sum)
package gen

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"
)

// Config shapes the stream. Zero fields take the documented defaults.
type Config struct {
	// Count is how many events to send. Default 1000.
	Count int64
	// Rate is events per second; 0 sends as fast as the target accepts.
	Rate float64
	// Seed makes the stream reproducible. Default 1.
	Seed uint64
	// Users is the number of distinct users (Zipf-distributed). Default 10000.
	Users int
	// DuplicateFraction of events are exact resends of an earlier event.
	DuplicateFraction float64
	// LateFraction of events carry an event time 1 hour to 3 days in the past.
	LateFraction float64
	// MalformedFraction of events are broken: bad JSON, a missing field, or a
	// field of the wrong type.
	MalformedFraction float64
	// Start is the event time of the first event; later events advance by 1/Rate
	// (or 1 ms). Default: now.
	Start time.Time
}

// Kind says what an event is, for the summary.
type Kind uint8

// Kinds of generated events.
const (
	Valid Kind = iota
	Late
	Duplicate
	Malformed
)

// Event is one generated event before encoding.
type Event struct {
	EventID   string  `json:"event_id"`
	UserID    string  `json:"user_id"`
	EventType string  `json:"event_type"`
	Amount    float64 `json:"amount"`
	Timestamp string  `json:"timestamp"`
}

// eventTypes and their weights: browsing dominates, money is rare.
var eventTypes = []struct {
	name   string
	weight float64
}{
	{"page_view", 0.60}, {"click", 0.25}, {"add_to_cart", 0.08}, {"purchase", 0.05}, {"refund", 0.02},
}

// Generator produces the stream; it is not safe for concurrent use.
type Generator struct {
	cfg    Config
	rng    *rand.Rand
	users  *rand.Zipf
	n      int64
	recent [][]byte // ring of recent valid payloads, the pool of duplicates
	keys   [][]byte
	ids    []uint64
}

// New returns a generator for cfg.
func New(cfg Config) *Generator {
	if cfg.Count <= 0 {
		cfg.Count = 1000
	}
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	if cfg.Users <= 0 {
		cfg.Users = 10000
	}
	if cfg.Start.IsZero() {
		cfg.Start = time.Now().UTC().Truncate(time.Second)
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
	return &Generator{
		cfg:   cfg,
		rng:   rng,
		users: rand.NewZipf(rng, 1.3, 1, uint64(cfg.Users-1)),
	}
}

// Config returns the generator's configuration with defaults filled in.
func (g *Generator) Config() Config { return g.cfg }

// Done reports whether Count events have been produced.
func (g *Generator) Done() bool { return g.n >= g.cfg.Count }

// Next returns the next event's key (the user id, nil for some malformed events),
// payload, kind, and the event id (0 for malformed events) for counting uniques.
func (g *Generator) Next() (key, payload []byte, kind Kind, id uint64) {
	i := g.n
	g.n++
	r := g.rng.Float64()
	switch {
	case r < g.cfg.DuplicateFraction && len(g.recent) > 0:
		j := g.rng.IntN(len(g.recent))
		return g.keys[j], g.recent[j], Duplicate, g.ids[j]
	case r < g.cfg.DuplicateFraction+g.cfg.MalformedFraction:
		key, payload = g.malformed(i)
		return key, payload, Malformed, 0
	}
	ev, id := g.event(i)
	kind = Valid
	if g.rng.Float64() < g.cfg.LateFraction {
		kind = Late
		back := time.Hour + time.Duration(g.rng.Int64N(int64(71*time.Hour)))
		ev.Timestamp = g.eventTime(i).Add(-back).Truncate(time.Microsecond).Format(time.RFC3339Nano)
	}
	payload, _ = json.Marshal(ev) // strings and a float: cannot fail
	key = []byte(ev.UserID)
	g.remember(key, payload, id)
	return key, payload, kind, id
}

func (g *Generator) remember(key, payload []byte, id uint64) {
	const ring = 1024
	if len(g.recent) < ring {
		g.recent = append(g.recent, payload)
		g.keys = append(g.keys, key)
		g.ids = append(g.ids, id)
		return
	}
	j := g.rng.IntN(ring)
	g.recent[j], g.keys[j], g.ids[j] = payload, key, id
}

func (g *Generator) eventTime(i int64) time.Time {
	step := time.Millisecond
	if g.cfg.Rate > 0 {
		step = time.Duration(float64(time.Second) / g.cfg.Rate)
	}
	// Microseconds, as Silver stores them: a contract quarantines a timestamp with
	// nanoseconds rather than truncate it.
	return g.cfg.Start.Add(time.Duration(i) * step).Truncate(time.Microsecond)
}

func (g *Generator) event(i int64) (Event, uint64) {
	id := g.rng.Uint64()
	t := g.pickType()
	var amount float64
	if t == "purchase" || t == "refund" || t == "add_to_cart" {
		// Log-normal prices around 30, in cents.
		amount = math.Round(math.Exp(3.4+0.9*g.rng.NormFloat64())*100) / 100
	}
	return Event{
		EventID:   fmt.Sprintf("evt-%016x", id),
		UserID:    "u" + strconv.FormatUint(g.users.Uint64(), 10),
		EventType: t,
		Amount:    amount,
		Timestamp: g.eventTime(i).Format(time.RFC3339Nano),
	}, id
}

func (g *Generator) pickType() string {
	r := g.rng.Float64()
	for _, et := range eventTypes {
		if r < et.weight {
			return et.name
		}
		r -= et.weight
	}
	return eventTypes[0].name
}

// malformed returns one of the broken payloads Silver must quarantine.
func (g *Generator) malformed(i int64) (key, payload []byte) {
	ev, _ := g.event(i)
	good, _ := json.Marshal(ev)
	switch g.rng.IntN(5) {
	case 0: // truncated JSON
		return []byte(ev.UserID), good[:len(good)/2]
	case 1: // not JSON at all
		return nil, []byte("event " + ev.EventID + " " + ev.EventType)
	case 2: // a required field missing
		m := map[string]any{"event_id": ev.EventID, "event_type": ev.EventType, "amount": ev.Amount, "timestamp": ev.Timestamp}
		b, _ := json.Marshal(m)
		return nil, b
	case 3: // amount of the wrong type
		m := map[string]any{"event_id": ev.EventID, "user_id": ev.UserID, "event_type": ev.EventType, "amount": "twelve", "timestamp": ev.Timestamp}
		b, _ := json.Marshal(m)
		return []byte(ev.UserID), b
	default: // timestamp of the wrong type
		m := map[string]any{"event_id": ev.EventID, "user_id": ev.UserID, "event_type": ev.EventType, "amount": ev.Amount, "timestamp": 12345}
		b, _ := json.Marshal(m)
		return []byte(ev.UserID), b
	}
}
