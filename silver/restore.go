package silver

import (
	"slices"
	"strings"
	"time"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/lake"
)

// Restore says how to write again the rows of Silver files that a repair (lakectl
// table check --repair) took out of the table: run the ingest hours From..To again
// with RunOptions.Reprocess. Their dedupe against the touched partitions writes the
// lost rows and none of the rows still there.
type Restore struct {
	Table      string      `json:"table"`
	Partitions []Partition `json:"partitions"` // the event partitions of the removed files
	From       layout.Hour `json:"from"`
	To         layout.Hour `json:"to"`
}

// RestorePlan returns the Restore of removed, files of the Silver table of snap, from
// the table's history (lake.Table.History); ok is false when snap is not a Silver
// table that has processed an hour, or removed holds no file of its partitions.
//
// The hours to run again are those whose commits touched a removed partition, as
// their commitInfo records: from the first to the last of them. A row lands in the
// partition of its event hour from the ingest hour it arrived in, which is that hour
// or a later one (late events) but may be an earlier one (a producer's clock ahead).
// When vacuum has expired the oldest commits, or none of the commits left touched
// the partitions, the range starts no later than the earliest removed partition's
// hour. The range stays within the hours processed by sealed runs.
func RestorePlan(snap *lake.Snapshot, history []lake.CommitSummary, removed []lake.Add) (Restore, bool) {
	if !slices.Equal(snap.PartitionColumns(), []string{ColEventDate, ColEventHour}) || snap.Metadata.Name == "" {
		return Restore{}, false
	}
	r := Restore{Table: snap.Metadata.Name}
	first, last, ok := processedHours(snap, r.Table)
	if !ok {
		return Restore{}, false
	}
	lost := map[Partition]bool{}
	var earliest time.Time
	for _, a := range removed {
		p, ok := partitionOf(a)
		if !ok || lost[p] {
			continue
		}
		day, err := time.ParseInLocation("2006-01-02", p.Date, time.UTC)
		if err != nil {
			continue
		}
		lost[p] = true
		r.Partitions = append(r.Partitions, p)
		if at := day.Add(time.Duration(p.Hour) * time.Hour); earliest.IsZero() || at.Before(earliest) {
			earliest = at
		}
	}
	if len(r.Partitions) == 0 {
		return Restore{}, false
	}
	slices.SortFunc(r.Partitions, func(a, b Partition) int { return strings.Compare(a.String(), b.String()) })
	from, to, touched := touchingHours(history, lost)
	complete := len(history) > 0 && history[0].Version == 0
	if !touched {
		from, to = layout.HourOf(earliest), last
	} else if !complete && earliest.Before(from.Time()) {
		from = layout.HourOf(earliest)
	}
	r.From, r.To = clamp(from, first, last), clamp(to, first, last)
	return r, true
}

// touchingHours returns the first and last ingest hour of the sealed Silver runs in
// history whose commits touched one of the partitions. Forced runs of open hours are
// left out: the sealed run of such an hour is still to come and writes its rows then.
func touchingHours(history []lake.CommitSummary, partitions map[Partition]bool) (first, last layout.Hour, ok bool) {
	for _, c := range history {
		s, _ := c.Info["ingestHour"].(string)
		h, err := layout.ParseHour(s)
		if sealed, _ := c.Info["sealed"].(bool); err != nil || !sealed {
			continue
		}
		parts, _ := c.Info["partitions"].([]any)
		for _, p := range parts {
			m, _ := p.(map[string]any)
			d, _ := m["event_date"].(string)
			n, _ := m["event_hour"].(float64)
			if !partitions[Partition{Date: d, Hour: int(n)}] {
				continue
			}
			if !ok || h.Time().Before(first.Time()) {
				first = h
			}
			if !ok || h.Time().After(last.Time()) {
				last = h
			}
			ok = true
		}
	}
	return first, last, ok
}

func clamp(h, lo, hi layout.Hour) layout.Hour {
	switch {
	case h.Time().Before(lo.Time()):
		return lo
	case h.Time().After(hi.Time()):
		return hi
	}
	return h
}

// processedHours returns the first and last ingest hour that snap records as processed
// by a sealed run (txn silver/<table>/<hour>).
func processedHours(snap *lake.Snapshot, table string) (first, last layout.Hour, ok bool) {
	prefix := "silver/" + table + "/"
	for app := range snap.Txns() {
		s, found := strings.CutPrefix(app, prefix)
		if !found {
			continue
		}
		h, err := layout.ParseHour(s)
		if err != nil || AppID(table, h) != app {
			continue // a partial run or the replay marker
		}
		if !ok || h.Time().Before(first.Time()) {
			first = h
		}
		if !ok || h.Time().After(last.Time()) {
			last = h
		}
		ok = true
	}
	return first, last, ok
}
