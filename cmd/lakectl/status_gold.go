package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/lakectl/lakectl/gold"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/pipeline"
	"github.com/lakectl/lakectl/pipeline/jobenv"
)

// modelStatus is what status says of a Gold model (in --json, an element of "gold").
type modelStatus struct {
	Model string `json:"model"`
	// CompleteThrough is the last complete day (see gold's package doc); nil when no
	// day is complete yet.
	CompleteThrough *gold.Day  `json:"complete_through"`
	Stale           []staleDay `json:"stale"`
	// Error is why the model's file is refused, and then nothing else is known of it;
	// absent when it is valid.
	Error *gold.ModelError `json:"error,omitempty"`
}

// staleDay is a stale day with its reasons, each also as the sentence the text
// output prints.
type staleDay struct {
	gold.StaleDay
	Why []string `json:"why"`
}

// goldStatus reads, for each Gold model of p, the last complete day and the stale
// days with why, from the commits alone; none when p has no models. The models that
// gold.LoadAll refuses come last, each with its Error.
func goldStatus(ctx context.Context, p *pipeline.Pipeline, store lake.Store) ([]modelStatus, error) {
	out := []modelStatus{}
	if files, _ := filepath.Glob(filepath.Join(p.Dir, gold.ModelsDir, "*.sql")); len(files) == 0 {
		return out, nil
	}
	cfg := jobenv.EngineConfig(p.DuckDB, nil)
	models, err := gold.LoadAll(ctx, p, cfg)
	if err != nil {
		return nil, err
	}
	job := gold.NewJob(gold.Config{Env: jobenv.Env{Store: store, Pipeline: p, Cache: pipelineCache(p, store), Engine: cfg}, Models: models})
	for _, m := range models.Order {
		st := modelStatus{Model: m.Name, Stale: []staleDay{}}
		if day, ok, err := job.CompleteThrough(ctx, m.Name, time.Now()); err != nil {
			return nil, err
		} else if ok {
			st.CompleteThrough = &day
		}
		stale, err := job.Stale(ctx, m.Name)
		if err != nil {
			return nil, err
		}
		for _, s := range stale {
			d := staleDay{StaleDay: s, Why: []string{}}
			for _, r := range s.Reasons {
				d.Why = append(d.Why, r.String())
			}
			st.Stale = append(st.Stale, d)
		}
		out = append(out, st)
	}
	for _, e := range models.Invalid {
		out = append(out, modelStatus{Model: strings.TrimSuffix(filepath.Base(e.File), ".sql"), Stale: []staleDay{}, Error: e})
	}
	return out, nil
}

// writeGoldStatus prints, for each Gold model, the last complete day and the stale
// days with why.
func writeGoldStatus(out io.Writer, models []modelStatus) error {
	if len(models) == 0 {
		return nil
	}
	w := newTabWriter(out)
	fmt.Fprintln(w, "\nGOLD\tCOMPLETE THROUGH\tSTALE DAY\tCOMPLETE\tWHY")
	for _, m := range models {
		through := "-"
		if m.CompleteThrough != nil {
			through = m.CompleteThrough.String()
		}
		if m.Error != nil {
			fmt.Fprintf(w, "%s\t-\t-\t-\tinvalid: %s\n", m.Model, m.Error)
		} else if len(m.Stale) == 0 {
			fmt.Fprintf(w, "%s\t%s\t-\t-\tup to date\n", m.Model, through)
		}
		for _, s := range m.Stale {
			complete := "yes"
			if !s.Completeness.Complete {
				complete = "no: " + s.Completeness.Why
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", m.Model, through, s.Day, complete, reasons(s.Reasons))
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "(a day is complete once Bronze is sealed, and Silver has processed, every ingest hour through the day's end plus the model's lateness, %s by default)\n", gold.DefaultLateness)
	return nil
}
