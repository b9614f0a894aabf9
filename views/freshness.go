package views

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/gold"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/pipeline"
	"github.com/lakectl/lakectl/silver"
)

// reflection is the time through which a table or a refresh reflects the events: T
// (through, by event time) and I (ingested), the ingest mark that bounds it (see
// Freshness in the package doc).
type reflection struct {
	through, ingested time.Time
}

// earlier is the reflection of two inputs read together: each time the earlier.
func (a reflection) earlier(b reflection) reflection {
	if b.through.Before(a.through) {
		a.through = b.through
	}
	if b.ingested.Before(a.ingested) {
		a.ingested = b.ingested
	}
	return a
}

// ingestedSilver is I of Silver table name (at ssnap, fed by the Bronze table at
// bsnap), alone or, with tail, with its live tail: the Bronze sealing mark, and
// without the tail no later than the start of the first ingest hour that Silver has
// not processed.
func ingestedSilver(bsnap, ssnap *lake.Snapshot, name string, tail bool) (time.Time, bool) {
	t, ok := layout.SealedThrough(bsnap, 0)
	if !ok || tail {
		return t, ok
	}
	for _, a := range silver.Unprocessed(bsnap, ssnap, name) {
		if h, hok := layout.FileHour(&a); hok && h.Time().Before(t) {
			t = h.Time()
		}
	}
	return t, true
}

// newestEvent is E of a Silver snapshot: the largest maximum of its event-time
// column col in the files' statistics. Every lakectl writer writes them; a file
// without them is left out, which can only make E, and so the freshness reported,
// older than it is. false when no file says.
func newestEvent(snap *lake.Snapshot, col string) (time.Time, bool) {
	var newest time.Time
	for _, a := range snap.Files() {
		st, ok, err := a.ParseStats()
		if !ok || err != nil {
			continue
		}
		s, _ := st.MaxValues[col].(string)
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil && t.After(newest) {
			newest = t
		}
	}
	return newest, !newest.IsZero()
}

// throughGold is the time through which a Gold table reflects the events: the end
// of the newest day that a complete (not partial) build committed.
func throughGold(ctx context.Context, t *lake.Table) (time.Time, bool, error) {
	hist, err := recent(ctx, t)
	if err != nil {
		return time.Time{}, false, err
	}
	var through time.Time
	for _, c := range hist {
		ds, _ := c.Info["day"].(string)
		partial, _ := c.Info["partial"].(bool)
		if d, err := gold.ParseDay(ds); err == nil && !partial && d.End().After(through) {
			through = d.End()
		}
	}
	return through, !through.IsZero(), nil
}

// reflects is the time through which a refresh over r's inputs reflects the events:
// of each input T and I, the earliest of the inputs'. Of a live tail it counts the
// tail's rows (tailNewest), so it is called once the refresh is built. false when no
// input has events (reference tables alone) or one has none yet.
func (r *refresh) reflects(ctx context.Context) (reflection, bool, error) {
	var all reflection
	found := false
	take := func(x reflection) {
		if !found {
			all, found = x, true
		}
		all = all.earlier(x)
	}
	for _, in := range r.inputs {
		switch in.name.Schema {
		case "silver":
			t := r.j.cfg.Pipeline.Table(in.name.Name)
			bsnap, err := r.bronzeOf(ctx, in.name.Name, t.Source)
			if err != nil || bsnap == nil {
				return all, false, err
			}
			ingested, ok := ingestedSilver(bsnap, in.snap, t.Name, r.liveTail)
			newest, eok := newestEvent(in.snap, t.EventTime)
			if tn, tok := r.tailNewest[t.Name]; tok && (!eok || tn.After(newest)) {
				newest, eok = tn, true
			}
			if !ok || !eok {
				return all, false, nil
			}
			take(reflection{through: minTime(ingested, newest), ingested: ingested})
		case "gold":
			tt, ok, err := throughGold(ctx, in.table)
			if err != nil || !ok {
				return all, false, err
			}
			take(reflection{through: tt, ingested: tt})
		}
	}
	return all, found, nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// Levels of a consumer's freshness against its SLO.
const (
	LevelOK      = "ok"
	LevelWarn    = "warn"
	LevelBreach  = "breach"
	LevelUnknown = "unknown" // a table it reads has never been refreshed or built
)

// ConsumerStatus is a consumer's actual freshness against its SLO.
type ConsumerStatus struct {
	Name      string        `json:"name"`
	SLO       time.Duration `json:"slo"`
	Freshness time.Duration `json:"freshness"` // of its stalest read
	Stalest   string        `json:"stalest"`   // that read
	Level     string        `json:"level"`
}

// ViewStatus is a view's version and recent refreshes.
type ViewStatus struct {
	Name      string          `json:"name"`
	Version   int64           `json:"version"` // -1 before its first refresh
	Refreshes []RefreshRecord `json:"refreshes"`
	// Error is why the view's file is refused (Views.Invalid); nil when it is valid.
	Error *gold.ModelError `json:"error,omitempty"`
}

// RefreshRecord is one refresh commit.
type RefreshRecord struct {
	Version  int64         `json:"version"`
	At       time.Time     `json:"at"`
	Mode     string        `json:"mode"`
	Reason   string        `json:"reason"`
	Duration time.Duration `json:"duration"`
	// Through is the event time through which the refresh reflected the events (T);
	// Ingested the ingest mark that bounded it (I). Zero when it recorded none.
	Through  time.Time `json:"through"`
	Ingested time.Time `json:"ingested_through"`
	// Inputs are the versions the refresh read, by table root.
	Inputs map[string]int64 `json:"inputs"`
}

// statusRefreshes is how many recent refreshes of a view Status lists.
const statusRefreshes = 5

// Status reads each view's refresh history and each consumer's freshness at now. A
// view that vs refused (Views.Invalid) is listed too, by its file name, with its
// history and its Error.
func Status(ctx context.Context, store lake.Store, p *pipeline.Pipeline, vs *Views, now time.Time) ([]ViewStatus, []ConsumerStatus, error) {
	var views []ViewStatus
	through := map[string]time.Time{}
	for _, v := range vs.Order {
		st, err := viewStatus(ctx, store, v.Name, through)
		if err != nil {
			return nil, nil, err
		}
		views = append(views, st)
	}
	for _, e := range vs.Invalid {
		st, err := viewStatus(ctx, store, strings.TrimSuffix(filepath.Base(e.File), ".sql"), through)
		if err != nil {
			return nil, nil, err
		}
		st.Error = e
		views = append(views, st)
	}
	slices.SortFunc(views, func(a, b ViewStatus) int { return strings.Compare(a.Name, b.Name) })
	var consumers []ConsumerStatus
	for _, c := range p.Consumers {
		cs := ConsumerStatus{Name: c.Name, SLO: c.Freshness, Level: LevelOK}
		for _, r := range c.Reads {
			t, ok := through[r]
			if name, isGold := strings.CutPrefix(r, "gold."); isGold {
				var err error
				if t, ok, err = throughGold(ctx, lake.NewTable(store, gold.Root(name))); err != nil {
					return nil, nil, err
				}
			}
			if !ok {
				cs.Level, cs.Stalest, cs.Freshness = LevelUnknown, r, 0
				break
			}
			if f := now.Sub(t); cs.Stalest == "" || f > cs.Freshness {
				cs.Freshness, cs.Stalest = f, r
			}
		}
		if cs.Level != LevelUnknown {
			cs.Level = level(c, cs.Freshness)
		}
		consumers = append(consumers, cs)
	}
	return views, consumers, nil
}

// viewStatus reads the version and recent refreshes of view name, and records in
// through the event time through which its last refresh reflects the events.
func viewStatus(ctx context.Context, store lake.Store, name string, through map[string]time.Time) (ViewStatus, error) {
	hist, err := recent(ctx, lake.NewTable(store, Root(name)))
	if err != nil {
		return ViewStatus{}, err
	}
	st := ViewStatus{Name: name, Version: -1}
	for _, c := range hist {
		st.Version = c.Version
		if c.Info["job"] != jobName {
			continue
		}
		rec := RefreshRecord{Version: c.Version, At: c.Timestamp}
		rec.Mode, _ = c.Info["mode"].(string)
		rec.Reason, _ = c.Info["reason"].(string)
		rec.Inputs, _ = recordedInputs(c.Info) // readLast refuses a malformed record
		if ms, ok := c.Info["durationMs"].(float64); ok {
			rec.Duration = time.Duration(ms) * time.Millisecond
		}
		if t, ok := infoTime(c.Info, "reflectsThrough"); ok {
			rec.Through = t
			through["views."+name] = t
		}
		rec.Ingested, _ = infoTime(c.Info, "ingestedThrough")
		st.Refreshes = append(st.Refreshes, rec)
	}
	if n := len(st.Refreshes); n > statusRefreshes {
		st.Refreshes = st.Refreshes[n-statusRefreshes:]
	}
	return st, nil
}

// level grades freshness f against c's warn and breach levels.
func level(c pipeline.Consumer, f time.Duration) string {
	switch {
	case f > c.Breach:
		return LevelBreach
	case f > c.Warn:
		return LevelWarn
	}
	return LevelOK
}

// String is a line of status: the consumer, its freshness against its SLO, the level.
func (s ConsumerStatus) String() string {
	if s.Level == LevelUnknown {
		return fmt.Sprintf("%s: %s has no data yet (SLO %s)", s.Name, s.Stalest, dur(s.SLO))
	}
	return fmt.Sprintf("%s: %s behind through %s (SLO %s): %s", s.Name, dur(s.Freshness), s.Stalest, dur(s.SLO), s.Level)
}

// bronzeOf is the snapshot of the Bronze table behind Silver table name: the one the
// live tail read, else the latest.
func (r *refresh) bronzeOf(ctx context.Context, name, source string) (*lake.Snapshot, error) {
	for _, in := range r.inputs {
		if in.tailOf == name {
			return in.snap, nil
		}
	}
	return latestOrNil(ctx, lake.NewTable(r.j.cfg.Store, layout.TableRoot(source)))
}
