package bronze

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/lake"
)

// A file written by ingest holds one source's contiguous run of offsets and says so
// in the single-range tags (TagTopic, TagPartition, TagFirstOffset, TagLastOffset).
// A compacted file holds the rows of many such files, of several partitions and
// possibly HTTP, so it lists its ranges in one more tag:
//
//	lakectl.offsets = kafka/events/0=0-99,250-399;kafka/events/1=7-80;http=0-41
//
// Each entry is a source (the Kafka partition's ledger appId, or "http" for the
// table's HTTP sequence) and its inclusive ranges, ascending. Kafka topic names
// hold only letters, digits, '.', '_' and '-', and offsets are never negative, so
// the separators are unambiguous. A range may span offsets that the broker never had (transaction
// markers, compacted topics), but never an offset that another file holds.
const (
	// TagOffsets lists every source's offset ranges in the file (compacted files).
	TagOffsets = "lakectl.offsets"
	// TagCompacted marks a file written by compaction: compaction never rewrites it.
	TagCompacted = "lakectl.compacted"
)

// SourceMixed is TagSource of a compacted file that holds Kafka and HTTP rows.
const SourceMixed = "mixed"

// spanKeyHTTP is the source of HTTP rows in TagOffsets.
const spanKeyHTTP = "http"

// Span is an inclusive range of offsets of one source that a file holds.
type Span struct {
	// Source is SourceKafka or SourceHTTP.
	Source string
	// Topic and Partition name the Kafka partition; HTTP spans have "" and -1.
	Topic     string
	Partition int32
	// First and Last are the inclusive offset (HTTP: sequence number) range.
	First, Last int64
}

func (s Span) key() string {
	if s.Source == SourceHTTP {
		return spanKeyHTTP
	}
	return layout.KafkaAppID(s.Topic, s.Partition)
}

// FileSpans returns the offset ranges an add's tags say the file holds, sorted by
// source and offset; ok is false for a file without offset tags.
func FileSpans(a *lake.Add) (spans []Span, ok bool) {
	if s, has := a.Tags[TagOffsets]; has {
		spans, err := parseSpans(s)
		return spans, err == nil
	}
	topic, p, first, last, ok := OffsetRange(a)
	if !ok {
		return nil, false
	}
	if a.Tags[TagSource] == SourceHTTP {
		return []Span{{Source: SourceHTTP, Partition: -1, First: first, Last: last}}, true
	}
	return []Span{{Source: SourceKafka, Topic: topic, Partition: p, First: first, Last: last}}, true
}

// formatSpans renders spans (sorted by key, then offset) as TagOffsets.
func formatSpans(spans []Span) string {
	var b strings.Builder
	for i, s := range spans {
		switch {
		case i == 0:
		case spans[i-1].key() == s.key():
			b.WriteByte(',')
		default:
			b.WriteByte(';')
		}
		if i == 0 || spans[i-1].key() != s.key() {
			b.WriteString(s.key())
			b.WriteByte('=')
		}
		b.WriteString(strconv.FormatInt(s.First, 10))
		b.WriteByte('-')
		b.WriteString(strconv.FormatInt(s.Last, 10))
	}
	return b.String()
}

func parseSpans(tag string) ([]Span, error) {
	var out []Span
	for entry := range strings.SplitSeq(tag, ";") {
		key, ranges, ok := strings.Cut(entry, "=")
		if !ok {
			return nil, fmt.Errorf("offsets tag entry %q: no '='", entry)
		}
		base := Span{Source: SourceHTTP, Partition: -1}
		if key != spanKeyHTTP {
			tp, ok := parseKafkaAppID(key)
			if !ok {
				return nil, fmt.Errorf("offsets tag entry %q: unknown source %q", entry, key)
			}
			base = Span{Source: SourceKafka, Topic: tp.Topic, Partition: tp.Partition}
		}
		for r := range strings.SplitSeq(ranges, ",") {
			i := strings.LastIndexByte(r, '-')
			if i <= 0 {
				return nil, fmt.Errorf("offsets tag range %q: want first-last", r)
			}
			first, err1 := strconv.ParseInt(r[:i], 10, 64)
			last, err2 := strconv.ParseInt(r[i+1:], 10, 64)
			if err1 != nil || err2 != nil || last < first {
				return nil, fmt.Errorf("offsets tag range %q: want first-last", r)
			}
			s := base
			s.First, s.Last = first, last
			out = append(out, s)
		}
	}
	sortSpans(out)
	return out, nil
}

func sortSpans(spans []Span) {
	sort.Slice(spans, func(i, j int) bool {
		a, b := spans[i], spans[j]
		if ka, kb := a.key(), b.key(); ka != kb {
			return ka < kb
		}
		return a.First < b.First
	})
}

// spanTags returns the tags of a compacted file that holds spans.
func spanTags(spans []Span) map[string]string {
	tags := map[string]string{TagOffsets: formatSpans(spans), TagCompacted: "true"}
	src := spans[0].Source
	for _, s := range spans[1:] {
		if s.Source != src {
			src = SourceMixed
		}
	}
	tags[TagSource] = src
	if len(spans) == 1 {
		// One range: readers of the single-range tags understand the file too.
		s := spans[0]
		tags[TagTopic] = s.Topic
		tags[TagPartition] = strconv.Itoa(int(s.Partition))
		tags[TagFirstOffset] = strconv.FormatInt(s.First, 10)
		tags[TagLastOffset] = strconv.FormatInt(s.Last, 10)
	}
	return tags
}

// spanPartition is the TopicPartition of a span's rows: HTTP rows have no topic and
// partition -1.
func spanPartition(s Span) TopicPartition {
	if s.Source == SourceHTTP {
		return TopicPartition{Partition: -1}
	}
	return TopicPartition{s.Topic, s.Partition}
}

// tagCheck compares the rows of one file with the offset ranges its tags claim:
// every row inside a range of its source, and each source's first and last
// offsets really in the file.
type tagCheck struct {
	spans   map[TopicPartition][]Span
	seen    map[TopicPartition][2]int64 // lowest and highest offset of the rows
	outside int64
}

func newTagCheck(spans []Span) *tagCheck {
	c := &tagCheck{spans: map[TopicPartition][]Span{}, seen: map[TopicPartition][2]int64{}}
	for _, s := range spans {
		tp := spanPartition(s)
		c.spans[tp] = append(c.spans[tp], s)
	}
	return c
}

func (c *tagCheck) row(tp TopicPartition, offset int64) {
	if lh, ok := c.seen[tp]; ok {
		c.seen[tp] = [2]int64{min(lh[0], offset), max(lh[1], offset)}
	} else {
		c.seen[tp] = [2]int64{offset, offset}
	}
	spans := c.spans[tp]
	i := sort.Search(len(spans), func(i int) bool { return spans[i].Last >= offset })
	if i == len(spans) || spans[i].First > offset {
		c.outside++
	}
}

func (c *tagCheck) problems(file string) []string {
	var out []string
	if c.outside > 0 {
		out = append(out, fmt.Sprintf("%s: %d rows outside the offset ranges its tags list", file, c.outside))
	}
	for tp, spans := range c.spans {
		lh, ok := c.seen[tp]
		first, last := spans[0].First, spans[len(spans)-1].Last
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s: tags say offsets %d..%d of %s, the file has none", file, first, last, tp))
		case lh[0] != first || lh[1] != last:
			out = append(out, fmt.Sprintf("%s: tags say offsets %d..%d of %s, rows hold %d..%d", file, first, last, tp, lh[0], lh[1]))
		}
	}
	return out
}
