package serve

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"html/template"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/silver"
	"github.com/lakectl/lakectl/views"
)

//go:embed page.html
var pageHTML string

var pageTemplate = template.Must(template.New("page").Parse(pageHTML))

// chartWidth is the width in pixels of a consumer's bar; its SLO sits at half of it,
// so that a bar past the mark is past the SLO.
const chartWidth = 200

type pageData struct {
	Now        string
	ChartWidth int
	Streams    []pageStream
	Tables     []pageTable
	Consumers  []pageConsumer
	Tasks      []pageTask
	Stale      []pageStale
}

type pageStream struct {
	Name               string
	Version            int64
	SealedThrough, Lag string
}

type pageTable struct {
	Layer, Name string
	Version     string
}

type pageConsumer struct {
	Name, Freshness, SLO, Level, Stalest string
	Bar, SLOMark                         int
}

type pageTask struct {
	TaskStatus
	// LastRun is LastStart for people: time.Time's own String shows the monotonic
	// clock reading.
	LastRun, Took string
}

type pageStale struct{ Model, Day, Why string }

// page gathers what the status page shows.
func (h *Handler) page(ctx context.Context) (pageData, error) {
	now := h.cfg.Now().UTC()
	d := pageData{Now: now.Format(time.RFC3339), ChartWidth: chartWidth}
	st, err := h.status(ctx)
	if err != nil {
		return d, err
	}
	p := h.cfg.Pipeline
	graces := p.Graces()
	for _, s := range p.Streams {
		snap, err := lake.NewTable(h.cfg.Store, layout.TableRoot(s.Name)).Latest(ctx)
		if errors.Is(err, lake.ErrNoTable) {
			continue
		}
		if err != nil {
			return d, err
		}
		ps := pageStream{Name: s.Name, Version: snap.Version, SealedThrough: "nothing sealed yet"}
		if t, ok := layout.SealedThrough(snap, graces.Of(s.Name)); ok {
			ps.SealedThrough, ps.Lag = t.UTC().Format(time.RFC3339), now.Sub(t).Round(time.Second).String()
		}
		d.Streams = append(d.Streams, ps)
	}
	version := func(root string) (string, error) {
		snap, err := lake.NewTable(h.cfg.Store, root).Latest(ctx)
		if errors.Is(err, lake.ErrNoTable) {
			return "none yet", nil
		}
		if err != nil {
			return "", err
		}
		return "v" + strconv.FormatInt(snap.Version, 10), nil
	}
	add := func(layer, name, root string) error {
		v, err := version(root)
		d.Tables = append(d.Tables, pageTable{Layer: layer, Name: name, Version: v})
		return err
	}
	for _, t := range p.Silver {
		if err := add("Silver", t.Name, silver.Root(t.Name)); err != nil {
			return d, err
		}
	}
	if h.cfg.Models != nil {
		for _, m := range h.cfg.Models.Order {
			if err := add("Gold", m.Name, m.Root()); err != nil {
				return d, err
			}
		}
	}
	for _, v := range h.cfg.Views.Order {
		if err := add("view", v.Name, v.Root()); err != nil {
			return d, err
		}
	}
	for _, c := range st.Consumers {
		pc := pageConsumer{Name: c.Name, SLO: c.SLO.String(), Level: c.Level, Stalest: c.Stalest, SLOMark: chartWidth / 2}
		if c.Level == views.LevelUnknown {
			pc.Freshness = "no data yet"
		} else {
			pc.Freshness = c.Freshness.Round(time.Second).String()
			if c.SLO > 0 {
				pc.Bar = min(int(float64(chartWidth/2)*float64(c.Freshness)/float64(c.SLO)), chartWidth)
			}
		}
		d.Consumers = append(d.Consumers, pc)
	}
	for _, t := range st.Tasks {
		pt := pageTask{TaskStatus: t, LastRun: "never", Took: t.LastElapsed.Round(time.Millisecond).String()}
		if !t.LastStart.IsZero() {
			pt.LastRun = t.LastStart.UTC().Format(time.RFC3339)
		}
		d.Tasks = append(d.Tasks, pt)
	}
	models := make([]string, 0, len(st.StaleDays))
	for m := range st.StaleDays {
		models = append(models, m)
	}
	sort.Strings(models)
	for _, m := range models {
		for _, day := range st.StaleDays[m] {
			var why []string
			for _, r := range day.Reasons {
				why = append(why, r.String())
			}
			d.Stale = append(d.Stale, pageStale{Model: m, Day: day.Day.String(), Why: strings.Join(why, "; ")})
		}
	}
	return d, nil
}

// servePage is GET /: the status page, behind the same token as /v1/status.
func (h *Handler) servePage(w http.ResponseWriter, r *http.Request) int {
	if !h.auth.open() && h.auth.consumer(r) == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="lakectl"`)
		return text(w, http.StatusUnauthorized, "a consumer's token is required (Authorization: Bearer TOKEN)")
	}
	d, err := h.page(r.Context())
	if err != nil {
		return text(w, http.StatusInternalServerError, "status: "+err.Error())
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, d); err != nil {
		return text(w, http.StatusInternalServerError, "status page: "+err.Error())
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	buf.WriteTo(w)
	return http.StatusOK
}
