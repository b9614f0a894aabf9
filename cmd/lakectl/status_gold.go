package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/lakectl/lakectl/gold"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/cache"
	"github.com/lakectl/lakectl/pipeline"
)

// writeGoldStatus prints, for each Gold model, the last complete day and the stale
// days with why, from the commits alone.
func writeGoldStatus(ctx context.Context, out io.Writer, p *pipeline.Pipeline, store lake.Store) error {
	if files, _ := filepath.Glob(filepath.Join(p.Dir, gold.ModelsDir, "*.sql")); len(files) == 0 {
		return nil
	}
	cfg := engineConfig(p, nil)
	models, err := gold.Load(ctx, p, cfg)
	if err != nil {
		return err
	}
	job := gold.NewJob(gold.Config{Store: store, Pipeline: p, Models: models, Cache: cache.New(store, "", 0), Engine: cfg})
	w := newTabWriter(out)
	fmt.Fprintln(w, "\nGOLD\tCOMPLETE THROUGH\tSTALE DAY\tCOMPLETE\tWHY")
	for _, m := range models.Order {
		through := "-"
		if day, ok, err := job.CompleteThrough(ctx, m.Name, time.Now()); err != nil {
			return err
		} else if ok {
			through = day.String()
		}
		stale, err := job.Stale(ctx, m.Name)
		if err != nil {
			return err
		}
		if len(stale) == 0 {
			fmt.Fprintf(w, "%s\t%s\t-\t-\tup to date\n", m.Name, through)
		}
		for _, s := range stale {
			complete := "yes"
			if !s.Completeness.Complete {
				complete = "no: " + s.Completeness.Why
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", m.Name, through, s.Day, complete, reasons(s.Reasons))
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "(a day is complete once Bronze is sealed, and Silver has processed, every ingest hour through the day's end plus the model's lateness, %s by default)\n", gold.DefaultLateness)
	return nil
}
