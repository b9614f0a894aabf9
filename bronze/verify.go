package bronze

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"sort"
	"time"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/lake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// VerifyConfig names the Bronze table to verify and the broker to verify it against.
type VerifyConfig struct {
	Store  lake.Store
	Stream string
	// Brokers are the Kafka seed brokers; empty checks only the table's own ledger
	// (offsets unique and gapless against the tags) and HTTP sequence numbers.
	Brokers []string
	// Timeout bounds reading the broker. Default 2 min.
	Timeout time.Duration
	Logger  *slog.Logger
}

// VerifyReport is what Verify found. OK is false on any gap, duplicate or mismatch.
type VerifyReport struct {
	Stream     string            `json:"stream"`
	Version    int64             `json:"version"`
	Files      int               `json:"files"`
	Rows       int64             `json:"rows"`
	KafkaRows  int64             `json:"kafka_rows"`
	HTTPRows   int64             `json:"http_rows"`
	Partitions []PartitionReport `json:"partitions"`
	HTTP       RangeReport       `json:"http"`
	Problems   []string          `json:"problems,omitempty"`
	OK         bool              `json:"ok"`
}

// PartitionReport checks one Kafka partition: every offset in [First, Next) that
// the broker holds must be in Bronze exactly once, with the same payload, key and
// headers (a null key or header value is null in Bronze, an empty one empty).
type PartitionReport struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	RangeReport
	BrokerRecords    int64 `json:"broker_records"`
	Mismatched       int64 `json:"payload_mismatches"`
	KeyMismatches    int64 `json:"key_mismatches"`
	HeaderMismatches int64 `json:"header_mismatches"`
	NotOnBroker      int64 `json:"not_on_broker"`
}

// RangeReport counts the rows of one ledger range [First, Next).
type RangeReport struct {
	First      int64 `json:"first"`
	Next       int64 `json:"next"`
	Rows       int64 `json:"rows"`
	Missing    int64 `json:"missing"`
	Duplicates int64 `json:"duplicates"`
	Outside    int64 `json:"outside_ledger"`
}

// slot is what Bronze holds at one offset.
type slot struct {
	count    uint8
	onBroker bool
	hash     recordHash
}

type rangeCheck struct {
	first, next int64
	slots       []slot
	rows        int64
	outside     int64

	brokerPos     int64 // offset after the last broker record read
	brokerSeen    int64
	brokerMissing int64
	mismatched    int64 // payloads
	keys          int64 // keys that differ
	headers       int64 // header lists that differ
	notOnBroker   int64
}

func newRangeCheck(first, next int64) *rangeCheck {
	return &rangeCheck{first: first, next: next, slots: make([]slot, max(next-first, 0)), brokerPos: first}
}

// brokerRecord notes that the broker holds offset with a record of hash h.
func (c *rangeCheck) brokerRecord(offset int64, h recordHash) {
	c.brokerPos = offset + 1
	if offset < c.first || offset >= c.next {
		return
	}
	c.brokerSeen++
	s := &c.slots[offset-c.first]
	s.onBroker = true
	if s.count == 0 {
		return
	}
	if s.hash.payload != h.payload {
		c.mismatched++
	}
	if s.hash.key != h.key {
		c.keys++
	}
	if s.hash.headers != h.headers {
		c.headers++
	}
}

// finishBroker counts the records Bronze lacks and the rows the broker lacks.
func (c *rangeCheck) finishBroker() {
	for _, s := range c.slots {
		switch {
		case s.onBroker && s.count == 0:
			c.brokerMissing++
		case !s.onBroker && s.count > 0:
			c.notOnBroker++
		}
	}
}

func (c *rangeCheck) add(offset int64, h recordHash) {
	c.rows++
	if offset < c.first || offset >= c.next {
		c.outside++
		return
	}
	s := &c.slots[offset-c.first]
	if s.count < 255 {
		s.count++
	}
	s.hash = h
}

// Verify proves that Bronze holds every ingested record exactly once: for each Kafka
// partition in the ledger, it reads the broker from the first ingested offset up to
// the ledger's version and checks that each record is in Bronze once with the same
// payload, key and headers; HTTP rows must carry each sequence number below the HTTP
// ledger once.
func Verify(ctx context.Context, cfg VerifyConfig) (VerifyReport, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	t := lake.NewTable(cfg.Store, layout.TableRoot(cfg.Stream))
	rep := VerifyReport{Stream: cfg.Stream}
	snap, err := t.Latest(ctx)
	if err != nil {
		return rep, fmt.Errorf("verify: %w", err) // the error names the table
	}
	rep.Version = snap.Version
	ledger := ReadLedger(snap)
	files := snap.Files()
	rep.Files = len(files)

	// The first ingested offset of each partition, from the files' tags.
	first := map[TopicPartition]int64{}
	for i := range files {
		spans, _ := FileSpans(&files[i])
		for _, s := range spans {
			if s.Source != SourceKafka {
				continue
			}
			tp := TopicPartition{s.Topic, s.Partition}
			if cur, seen := first[tp]; !seen || s.First < cur {
				first[tp] = s.First
			}
		}
	}
	checks := map[TopicPartition]*rangeCheck{}
	for tp, next := range ledger.Next {
		f, ok := ledger.First[tp] // the ledger's record wins over what files remain
		if !ok {
			f, ok = first[tp]
		}
		if !ok {
			f = next // nothing ingested yet
		}
		checks[tp] = newRangeCheck(f, next)
	}
	httpCheck := newRangeCheck(0, ledger.HTTPNext)
	seed := maphash.MakeSeed()

	for i := range files {
		rows, err := readFile[ledgerRow](ctx, t, files[i])
		if err != nil {
			return rep, fmt.Errorf("verify bronze/%s: %w", cfg.Stream, err)
		}
		spans, tagged := FileSpans(&files[i])
		tags := newTagCheck(spans)
		for _, r := range rows {
			rep.Rows++
			h := hashRecord(seed, r.Payload, r.Key, r.Headers)
			if tagged {
				tags.row(TopicPartition{r.Topic, r.Partition}, r.Offset)
			}
			if r.Source == SourceHTTP {
				rep.HTTPRows++
				httpCheck.add(r.Offset, h)
				continue
			}
			rep.KafkaRows++
			c := checks[TopicPartition{r.Topic, r.Partition}]
			if c == nil {
				rep.Problems = append(rep.Problems, fmt.Sprintf("%s: row of %s/%d, a partition the ledger does not know", files[i].Path, r.Topic, r.Partition))
				continue
			}
			c.add(r.Offset, h)
		}
		if tagged {
			rep.Problems = append(rep.Problems, tags.problems(files[i].Path)...)
		}
	}

	if len(cfg.Brokers) > 0 && len(checks) > 0 {
		if err := verifyAgainstBroker(ctx, cfg, checks, seed); err != nil {
			return rep, err
		}
	}
	var tps []TopicPartition
	for tp := range checks {
		tps = append(tps, tp)
	}
	sort.Slice(tps, func(i, j int) bool { return tps[i].String() < tps[j].String() })
	for _, tp := range tps {
		c := checks[tp]
		pr := PartitionReport{Topic: tp.Topic, Partition: tp.Partition, RangeReport: c.report(len(cfg.Brokers) == 0)}
		pr.BrokerRecords, pr.Mismatched, pr.NotOnBroker = c.brokerSeen, c.mismatched, c.notOnBroker
		pr.KeyMismatches, pr.HeaderMismatches = c.keys, c.headers
		if len(cfg.Brokers) > 0 {
			pr.Missing = c.brokerMissing
		}
		rep.Partitions = append(rep.Partitions, pr)
		if pr.Missing+pr.Duplicates+pr.Outside+pr.Mismatched+pr.KeyMismatches+pr.HeaderMismatches+pr.NotOnBroker > 0 {
			rep.Problems = append(rep.Problems, fmt.Sprintf("partition %s: %d missing, %d duplicated, %d outside the ledger, %d payload mismatches, %d key mismatches, %d header mismatches, %d not on the broker",
				tp, pr.Missing, pr.Duplicates, pr.Outside, pr.Mismatched, pr.KeyMismatches, pr.HeaderMismatches, pr.NotOnBroker))
		}
	}
	rep.HTTP = httpCheck.report(true)
	if h := rep.HTTP; h.Missing+h.Duplicates+h.Outside > 0 {
		rep.Problems = append(rep.Problems, fmt.Sprintf("http: %d missing, %d duplicated, %d outside the ledger", h.Missing, h.Duplicates, h.Outside))
	}
	rep.OK = len(rep.Problems) == 0
	return rep, nil
}

// report counts duplicates and, when gapless is set (no broker to say which
// offsets exist), missing offsets.
func (c *rangeCheck) report(gapless bool) RangeReport {
	r := RangeReport{First: c.first, Next: c.next, Rows: c.rows, Outside: c.outside}
	for _, s := range c.slots {
		switch {
		case s.count > 1:
			r.Duplicates += int64(s.count - 1)
		case s.count == 0 && gapless:
			r.Missing++
		}
	}
	return r
}

// verifyAgainstBroker reads every checked range from the broker and compares.
func verifyAgainstBroker(ctx context.Context, cfg VerifyConfig, checks map[TopicPartition]*rangeCheck, seed maphash.Seed) error {
	start := map[string]map[int32]kgo.Offset{}
	remaining := 0
	for tp, c := range checks {
		if c.next <= c.first {
			continue
		}
		if start[tp.Topic] == nil {
			start[tp.Topic] = map[int32]kgo.Offset{}
		}
		start[tp.Topic][tp.Partition] = kgo.NewOffset().At(c.first)
		remaining++
	}
	if remaining == 0 {
		return nil
	}
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ConsumePartitions(start),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
	)
	if err != nil {
		return fmt.Errorf("verify: kafka client for %v: %w", cfg.Brokers, err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	done := map[TopicPartition]bool{}
	var hdrs []Header
	for len(done) < remaining {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return fmt.Errorf("verify: read the broker: %d of %d partitions incomplete: %w", remaining-len(done), remaining, ctx.Err())
		}
		var ferr error
		fetches.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				ferr = fmt.Errorf("verify: fetch %s/%d: %w", topic, p, err)
			}
		})
		if ferr != nil {
			return ferr
		}
		fetches.EachPartition(func(p kgo.FetchTopicPartition) {
			tp := TopicPartition{p.Topic, p.Partition}
			c := checks[tp]
			if c == nil || done[tp] {
				return
			}
			for _, r := range p.Records {
				if r.Offset >= c.next {
					c.brokerPos = r.Offset
					break
				}
				hdrs = hdrs[:0]
				for _, h := range r.Headers {
					hdrs = append(hdrs, Header{Key: h.Key, Value: h.Value})
				}
				c.brokerRecord(r.Offset, hashRecord(seed, r.Value, r.Key, hdrs))
			}
			if c.brokerPos >= c.next || c.brokerPos >= p.LastStableOffset {
				done[tp] = true
				c.finishBroker()
			}
		})
	}
	return nil
}

// recordHash is what verify compares of a record: its payload, and its key and
// headers with their nullness.
type recordHash struct{ payload, key, headers uint64 }

// hashRecord hashes a record as Bronze stores it. A null key or header value
// hashes differently from an empty one, and lengths are hashed with the bytes so
// that no two different header lists hash alike by concatenation. A payload is
// not nullable (a tombstone is stored empty), so only its bytes count.
func hashRecord(seed maphash.Seed, payload, key []byte, headers []Header) recordHash {
	var h maphash.Hash
	h.SetSeed(seed)
	writeNullable(&h, key)
	k := h.Sum64()
	h.Reset()
	writeLen(&h, len(headers))
	for _, hd := range headers {
		writeLen(&h, len(hd.Key))
		h.WriteString(hd.Key)
		writeNullable(&h, hd.Value)
	}
	return recordHash{payload: maphash.Bytes(seed, payload), key: k, headers: h.Sum64()}
}

func writeNullable(h *maphash.Hash, b []byte) {
	if b == nil {
		h.WriteByte(0)
		return
	}
	h.WriteByte(1)
	writeLen(h, len(b))
	h.Write(b)
}

func writeLen(h *maphash.Hash, n int) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(n))
	h.Write(b[:])
}
