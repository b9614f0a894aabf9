package layout

import (
	"slices"
	"time"

	"github.com/lakectl/lakectl/lake"
)

// Graces is the one sealing rule of a lake: ingest hour H of stream S is sealed when
// every mark of bronze/S has passed H+1h+Of(S). Ingest (its idle-mark timing and its
// compaction), `compact bronze`, `status` and the Silver job all decide by it, so
// they agree on which hours are sealed even when streams have different graces.
type Graces struct {
	// Default is the grace of a stream that Streams does not list: the --grace
	// flag, or DefaultGrace when zero.
	Default time.Duration
	// Streams is the grace of each declared stream (lakectl.yaml streams.S.grace).
	Streams map[string]time.Duration
}

// Of returns the grace of stream.
func (g Graces) Of(stream string) time.Duration {
	if d, ok := g.Streams[stream]; ok && d > 0 {
		return d
	}
	if g.Default > 0 {
		return g.Default
	}
	return DefaultGrace
}

// IsSealed reports whether ingest hour h of stream, whose Bronze table is at snap,
// is sealed by stream's own grace (see IsSealed).
func (g Graces) IsSealed(snap *lake.Snapshot, stream string, h Hour) bool {
	return IsSealed(snap, h, g.Of(stream))
}

// All returns every distinct grace in use, shortest first: the points after each
// hour boundary at which a writer serving several streams must advance its marks so
// that every stream's hour seals on time.
func (g Graces) All() []time.Duration {
	out := []time.Duration{g.Of("")}
	for s := range g.Streams {
		out = append(out, g.Of(s))
	}
	slices.Sort(out)
	return slices.Compact(out)
}
