package views

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/gold"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/pipeline"
	"github.com/lakectl/lakectl/silver"
)

// Defaults of the hops' p95 durations before there is history to measure them from.
const (
	DefaultSilverHop = 2 * time.Minute
	DefaultGoldHop   = 5 * time.Minute
	DefaultRefresh   = 5 * time.Second
)

// historySamples is how many recent commits a measurement reads; older ones describe
// another load.
const historySamples = 100

// maxHopSample leaves out lags longer than an hour: a scheduled hop takes minutes,
// so those are backfills and catch-ups run by hand, and one of them would make the
// p95 of a short history refuse every SLO downstream.
const maxHopSample = time.Hour

// Hop is a measured p95 duration, or the default when there is no history.
type Hop struct {
	P95      time.Duration
	Samples  int // 0: the default
	Measured bool
}

func hopOf(samples []time.Duration, def time.Duration) Hop {
	if len(samples) == 0 {
		return Hop{P95: def}
	}
	slices.Sort(samples)
	i := (len(samples)*95 + 99) / 100 // nearest rank
	return Hop{P95: samples[max(i-1, 0)], Samples: len(samples), Measured: true}
}

// Measurements are the hop durations that the plan's arithmetic uses.
type Measurements struct {
	// Silver is the lag from an ingest hour's sealing to the Silver commit of it, by
	// Silver table.
	Silver map[string]Hop
	// Gold is the lag from a day's completeness (its end plus the model's lateness
	// plus the grace) to its Gold commit, by model.
	Gold map[string]Hop
	// Refresh is the duration of a view's refresh (commitInfo.durationMs), by view.
	Refresh map[string]Hop
}

// Measure reads the recent commits of the pipeline's Silver tables, the Gold models
// that views or consumers read, and the views.
func Measure(ctx context.Context, store lake.Store, p *pipeline.Pipeline, vs *Views, models *gold.Models) (*Measurements, error) {
	m := &Measurements{Silver: map[string]Hop{}, Gold: map[string]Hop{}, Refresh: map[string]Hop{}}
	for _, t := range p.Silver {
		grace := p.Graces().Of(t.Source)
		samples, err := lags(ctx, store, silver.Root(t.Name), func(c lake.CommitSummary) (time.Time, bool) {
			hs, _ := c.Info["ingestHour"].(string)
			sealed, _ := c.Info["sealed"].(bool)
			h, err := layout.ParseHour(hs)
			if job, _ := c.Info["job"].(string); job != "silver" || !sealed || err != nil {
				return time.Time{}, false
			}
			return h.End().Add(grace), true
		})
		if err != nil {
			return nil, err
		}
		m.Silver[t.Name] = hopOf(samples, DefaultSilverHop)
	}
	if models != nil {
		for _, gm := range models.Order {
			grace := maxGrace(p)
			samples, err := lags(ctx, store, gm.Root(), func(c lake.CommitSummary) (time.Time, bool) {
				ds, _ := c.Info["day"].(string)
				d, err := gold.ParseDay(ds)
				if partial, _ := c.Info["partial"].(bool); err != nil || partial {
					return time.Time{}, false
				}
				return d.End().Add(gm.Lateness + grace), true
			})
			if err != nil {
				return nil, err
			}
			m.Gold[gm.Name] = hopOf(samples, DefaultGoldHop)
		}
	}
	for _, v := range vs.Order {
		hist, err := recent(ctx, lake.NewTable(store, v.Root()))
		if err != nil {
			return nil, err
		}
		var samples []time.Duration
		for _, c := range hist {
			if ms, ok := c.Info["durationMs"].(float64); ok && c.Info["job"] == jobName {
				samples = append(samples, time.Duration(ms)*time.Millisecond)
			}
		}
		m.Refresh[v.Name] = hopOf(samples, DefaultRefresh)
	}
	return m, nil
}

// lags are, for the recent commits of root that start reports a start for, the time
// from that start to the commit, up to maxHopSample.
func lags(ctx context.Context, store lake.Store, root string, start func(lake.CommitSummary) (time.Time, bool)) ([]time.Duration, error) {
	hist, err := recent(ctx, lake.NewTable(store, root))
	if err != nil {
		return nil, err
	}
	var out []time.Duration
	for _, c := range hist {
		s, ok := start(c)
		if !ok {
			continue
		}
		if d := c.Timestamp.Sub(s); d >= 0 && d <= maxHopSample {
			out = append(out, d)
		}
	}
	return out, nil
}

// recent are the last historySamples commits of t; none when it does not exist.
func recent(ctx context.Context, t *lake.Table) ([]lake.CommitSummary, error) {
	snap, err := latestOrNil(ctx, t)
	if err != nil || snap == nil {
		return nil, err
	}
	hist, err := t.HistoryFrom(ctx, max(snap.Version-historySamples+1, 0))
	if errors.Is(err, lake.ErrNoTable) {
		return nil, nil
	}
	return hist, err
}

// maxGrace is the longest grace of the pipeline's streams: a day of a Gold model is
// complete once every stream has sealed it.
func maxGrace(p *pipeline.Pipeline) time.Duration {
	var g time.Duration
	for _, s := range p.Streams {
		g = max(g, s.Grace)
	}
	return g
}
