package views

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lakectl/lakectl/gold"
	"github.com/lakectl/lakectl/pipeline"
)

// The paths by which events reach a view or a Gold table.
const (
	// PathLiveTail: Silver plus the Bronze files newer than Silver's last processed
	// hour, through the same compiled contract; bounded by ingest's flush.
	PathLiveTail = "live tail"
	// PathSilver: Silver alone; bounded by the ingest hour, its grace and the Silver
	// job.
	PathSilver = "Silver"
	// PathGold: a Gold table, built per day once the day is complete.
	PathGold = "Gold"
	// PathReference: reference tables alone: no events, no freshness to keep.
	PathReference = "reference"
)

// Term is one hop of the freshness arithmetic.
type Term struct {
	Name string
	D    time.Duration
	Note string // "measured p95 of 12" or "default": where the number comes from
}

// ViewPlan is what the plan decides for one view.
type ViewPlan struct {
	Name      string
	Consumers []string      // the consumers that read it, sorted
	Need      time.Duration // the tightest consumer's freshness; 0 with none
	Fixed     time.Duration // the header's refresh policy; 0 without
	Unused    bool          // neither a consumer nor a fixed policy asks for it
	Path      string
	Cadence   time.Duration // how often to refresh it
	Terms     []Term        // the arithmetic of Guarantee, the cadence among them
	Guarantee time.Duration // the freshness it can guarantee: the sum of Terms
	// Cost is the compute per day: the refresh's p95 duration times the runs per day;
	// SlowerCost the same at the next slower tier's cadence (Slower; "" for none).
	Cost       time.Duration
	Slower     string
	SlowerCost time.Duration
}

// ConsumerPlan is what the plan decides for one consumer.
type ConsumerPlan struct {
	Name      string
	Freshness time.Duration
	Reads     []ReadPlan
}

// ReadPlan is one table a consumer reads and the freshness it gets.
type ReadPlan struct {
	Table     string // views.NAME or gold.NAME
	Path      string
	Guarantee time.Duration
}

// Plan is the refresh plan of a pipeline's views and consumers.
type Plan struct {
	Views     []ViewPlan
	Consumers []ConsumerPlan
}

// InfeasibleError is a consumer whose freshness SLO no path can meet.
type InfeasibleError struct {
	File     string
	Line     int
	Consumer string
	Table    string
	SLO      time.Duration
	Best     time.Duration // the best freshness achievable for it
	BestPath string        // the path that achieves Best
	// Would says which other path would meet the SLO (a view over Silver through the
	// live tail, for a Gold-fed table), or that none can.
	Would string
}

func (e *InfeasibleError) Error() string {
	msg := fmt.Sprintf("consumer %s: freshness %s on %s cannot be met: the best achievable is %s, through %s",
		e.Consumer, e.SLO, e.Table, e.Best, pathName(e.BestPath))
	if e.Would != "" {
		msg += "; " + e.Would
	}
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, msg)
	}
	return msg
}

// Hint tells the user what to do.
func (e *InfeasibleError) Hint() string {
	return fmt.Sprintf("relax the SLO to %s or more, or read a table whose path can meet it (lakectl plan shows the arithmetic)", e.Best)
}

func pathName(p string) string {
	if p == PathLiveTail {
		return "the live tail"
	}
	return p
}

// minCadence is the shortest refresh interval of a view: a refresh cannot start
// before the previous one ends.
func minCadence(refresh Hop) time.Duration { return max(refresh.P95, time.Second) }

// FixedRefreshError is a view whose fixed -- refresh is shorter than a refresh of it
// takes: each refresh would be due before the previous one ends, whatever the
// consumers need.
type FixedRefreshError struct {
	File    string
	Line    int
	View    string
	Refresh time.Duration // the header's
	Takes   Term          // the refresh's p95 duration and where it comes from
}

func (e *FixedRefreshError) Error() string {
	return fmt.Sprintf("%s:%d: view %s: the fixed refresh interval %s is shorter than a refresh of the view takes: p95 %s (%s); a refresh cannot start before the previous one ends",
		e.File, e.Line, e.View, dur(e.Refresh), dur(e.Takes.D), e.Takes.Note)
}

// Hint tells the user what to do.
func (e *FixedRefreshError) Hint() string {
	return fmt.Sprintf("set -- refresh: to %s or more, or remove it and let the consumers' freshness decide", dur(e.Takes.D))
}

// Build decides the path, cadence and cost of every view and checks every consumer's
// SLO. A consumer that no path can serve within its SLO is an *InfeasibleError; a
// view whose fixed refresh is shorter than a refresh of it takes, a
// *FixedRefreshError.
func Build(p *pipeline.Pipeline, vs *Views, models *gold.Models, m *Measurements) (*Plan, error) {
	pl := &Plan{}
	needs := map[string][]pipeline.Consumer{}
	for _, c := range p.Consumers {
		for _, r := range c.Reads {
			needs[r] = append(needs[r], c)
		}
	}
	guarantees := map[string]ReadPlan{}
	for _, v := range vs.Order {
		vp, err := planView(p, v, models, m, needs["views."+v.Name])
		if err != nil {
			return nil, err
		}
		pl.Views = append(pl.Views, vp)
		guarantees["views."+v.Name] = ReadPlan{Table: "views." + v.Name, Path: vp.Path, Guarantee: vp.Guarantee}
	}
	for _, c := range p.Consumers {
		cp := ConsumerPlan{Name: c.Name, Freshness: c.Freshness}
		for _, r := range c.Reads {
			rp, ok := guarantees[r]
			if !ok {
				var err error
				if rp, err = planGoldRead(p, c, r, models, m); err != nil {
					return nil, err
				}
			}
			cp.Reads = append(cp.Reads, rp)
		}
		pl.Consumers = append(pl.Consumers, cp)
	}
	return pl, nil
}

// upstream is the arithmetic of a path without the view's own cadence.
func upstream(p *pipeline.Pipeline, v *View, models *gold.Models, m *Measurements, path string) []Term {
	var terms []Term
	flush, grace := time.Duration(0), time.Duration(0)
	var silverHop Hop
	for _, in := range v.Inputs {
		if in.Schema != "silver" {
			continue
		}
		t := p.Table(in.Name)
		if s := p.Stream(t.Source); s != nil {
			flush, grace = max(flush, s.FlushInterval), max(grace, s.Grace)
		}
		if h := m.silver(in.Name); h.P95 >= silverHop.P95 {
			silverHop = h
		}
	}
	if path == PathGold {
		flush, grace = maxFlush(p), maxGrace(p)
		silverHop = slowestSilver(m)
	}
	if path == PathReference {
		return nil // no events: the refresh alone
	}
	terms = append(terms, Term{"ingest flush", flush, "flush_interval"})
	switch path {
	case PathSilver:
		terms = append(terms, Term{"ingest hour", time.Hour, "an hour is processed once whole"},
			Term{"seal grace", grace, "grace"}, hopTerm("Silver job", silverHop))
	case PathGold:
		lateness, goldHop := gold.DefaultLateness, Hop{P95: DefaultGoldHop}
		for _, in := range v.Inputs {
			if in.Schema != "gold" || models == nil || models.Model(in.Name) == nil {
				continue
			}
			lateness = max(lateness, models.Model(in.Name).Lateness)
			if h := m.gold(in.Name); h.P95 >= goldHop.P95 {
				goldHop = h
			}
		}
		terms = append(terms, Term{"Gold day", 24 * time.Hour, "a day is built once complete"},
			Term{"lateness", lateness, "the model's -- lateness"}, Term{"seal grace", grace, "grace"},
			hopTerm("Silver job", silverHop), hopTerm("Gold job", goldHop))
	}
	return terms
}

func hopTerm(name string, h Hop) Term {
	if h.Measured {
		return Term{name + " p95", h.P95, fmt.Sprintf("measured, %d commits", h.Samples)}
	}
	return Term{name + " p95", h.P95, "default, no history yet"}
}

func sum(terms []Term) time.Duration {
	var d time.Duration
	for _, t := range terms {
		d += t.D
	}
	return d
}

// naturalPath is the path of v's inputs: Gold if it reads a Gold table, Silver if a
// Silver one, else reference.
func naturalPath(v *View) string {
	path := PathReference
	for _, in := range v.Inputs {
		switch in.Schema {
		case "gold":
			return PathGold
		case "silver":
			path = PathSilver
		}
	}
	return path
}

// planView picks the slowest path that meets the tightest consumer's need, and the
// cadence that need leaves after the upstream hops.
func planView(p *pipeline.Pipeline, v *View, models *gold.Models, m *Measurements, consumers []pipeline.Consumer) (ViewPlan, error) {
	refresh := m.refresh(v.Name)
	vp := ViewPlan{Name: v.Name, Fixed: v.Refresh}
	var tightest pipeline.Consumer
	for _, c := range consumers {
		vp.Consumers = append(vp.Consumers, c.Name)
		if vp.Need == 0 || c.Freshness < vp.Need {
			vp.Need, tightest = c.Freshness, c
		}
	}
	slices.Sort(vp.Consumers)
	candidates := []string{naturalPath(v)}
	if candidates[0] == PathSilver {
		candidates = append(candidates, PathLiveTail)
	}
	refreshTerm := hopTerm("refresh", refresh)
	if v.Refresh > 0 && v.Refresh < minCadence(refresh) {
		return vp, &FixedRefreshError{File: v.File, Line: v.Line("refresh"), View: v.Name, Refresh: v.Refresh, Takes: refreshTerm}
	}
	var best time.Duration
	var bestPath string
	for _, path := range candidates {
		up := append(upstream(p, v, models, m, path), refreshTerm)
		cadence := v.Refresh
		if vp.Need > 0 {
			left := (vp.Need - sum(up)).Truncate(time.Second)
			if cadence == 0 || left < cadence {
				cadence = left
			}
		}
		if vp.Need == 0 && cadence == 0 {
			vp.Unused, vp.Path, vp.Terms = true, path, up
			vp.Guarantee = sum(up)
			return vp, nil
		}
		if b := sum(up) + minCadence(refresh); bestPath == "" || b < best {
			best, bestPath = b, path
		}
		if cadence < minCadence(refresh) {
			continue
		}
		vp.Path, vp.Cadence = path, cadence
		vp.Terms = append(up, Term{"refresh cadence", cadence, cadenceNote(vp, cadence)})
		vp.Guarantee = sum(vp.Terms)
		vp.Cost = cost(refresh.P95, cadence)
		switch path {
		case PathLiveTail:
			vp.Slower, vp.SlowerCost = PathSilver, cost(refresh.P95, time.Hour)
		case PathSilver:
			vp.Slower, vp.SlowerCost = PathGold, cost(refresh.P95, 24*time.Hour)
		}
		return vp, nil
	}
	return vp, &InfeasibleError{File: p.File, Line: p.Line("consumers." + tightest.Name + ".freshness"), Consumer: tightest.Name,
		Table: "views." + v.Name, SLO: vp.Need, Best: best, BestPath: bestPath, Would: liveTailWould(p, m, bestPath, vp.Need)}
}

func cadenceNote(vp ViewPlan, cadence time.Duration) string {
	switch {
	case vp.Need == 0:
		return "the view's fixed -- refresh"
	case vp.Fixed > 0 && vp.Fixed == cadence:
		return "the view's fixed -- refresh, within the consumers' need"
	}
	return "what the tightest consumer's need leaves"
}

// cost is the compute per day of a refresh of duration d every cadence.
func cost(d, cadence time.Duration) time.Duration {
	return time.Duration(float64(d) * float64(24*time.Hour) / float64(cadence))
}

// liveTailWould says whether a view over Silver through the live tail, the fastest
// path, would meet slo, when the path tried is another.
func liveTailWould(p *pipeline.Pipeline, m *Measurements, tried string, slo time.Duration) string {
	if tried == PathLiveTail {
		return ""
	}
	best := maxFlush(p) + DefaultRefresh + minCadence(Hop{P95: DefaultRefresh})
	if best <= slo {
		return "a view over silver.* through the live tail would meet it"
	}
	return fmt.Sprintf("no path can: even the live tail, the fastest, guarantees at best %s", dur(best))
}

// planGoldRead is the freshness of a Gold table that a consumer reads directly.
func planGoldRead(p *pipeline.Pipeline, c pipeline.Consumer, table string, models *gold.Models, m *Measurements) (ReadPlan, error) {
	name := strings.TrimPrefix(table, "gold.")
	line := p.Line("consumers." + c.Name + ".reads")
	if !strings.HasPrefix(table, "gold.") {
		return ReadPlan{}, fmt.Errorf("%s:%d: consumer %s reads %s: there is no views/%s.sql", p.File, line, c.Name, table, strings.TrimPrefix(table, "views."))
	}
	if models == nil || models.Model(name) == nil {
		return ReadPlan{}, fmt.Errorf("%s:%d: consumer %s reads %s: there is no models/%s.sql", p.File, line, c.Name, table, name)
	}
	terms := upstreamGold(p, models, m, name)
	rp := ReadPlan{Table: table, Path: PathGold, Guarantee: sum(terms)}
	if rp.Guarantee > c.Freshness {
		return rp, &InfeasibleError{File: p.File, Line: p.Line("consumers." + c.Name + ".freshness"), Consumer: c.Name, Table: table,
			SLO: c.Freshness, Best: rp.Guarantee, BestPath: PathGold, Would: liveTailWould(p, m, PathGold, c.Freshness)}
	}
	return rp, nil
}

// upstreamGold is the arithmetic of Gold model name read directly.
func upstreamGold(p *pipeline.Pipeline, models *gold.Models, m *Measurements, name string) []Term {
	gm := models.Model(name)
	return []Term{{"ingest flush", maxFlush(p), "flush_interval"}, {"Gold day", 24 * time.Hour, "a day is built once complete"},
		{"lateness", gm.Lateness, "the model's -- lateness"}, {"seal grace", maxGrace(p), "grace"},
		hopTerm("Silver job", slowestSilver(m)), hopTerm("Gold job", m.gold(name))}
}

func maxFlush(p *pipeline.Pipeline) time.Duration {
	var f time.Duration
	for _, s := range p.Streams {
		f = max(f, s.FlushInterval)
	}
	return f
}

func slowestSilver(m *Measurements) Hop {
	h := Hop{P95: DefaultSilverHop}
	for _, s := range m.Silver {
		if s.P95 >= h.P95 {
			h = s
		}
	}
	return h
}

// The hops of a table or view, the defaults when they were not measured.
func (m *Measurements) silver(name string) Hop  { return orDefault(m.Silver, name, DefaultSilverHop) }
func (m *Measurements) gold(name string) Hop    { return orDefault(m.Gold, name, DefaultGoldHop) }
func (m *Measurements) refresh(name string) Hop { return orDefault(m.Refresh, name, DefaultRefresh) }

func orDefault(hops map[string]Hop, name string, def time.Duration) Hop {
	if h, ok := hops[name]; ok {
		return h
	}
	return Hop{P95: def}
}
