package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/pipeline"
	"github.com/lakectl/lakectl/pipeline/jobenv"
	"github.com/lakectl/lakectl/views"
)

// writeViewsStatus prints each view's version and recent refreshes, then each
// consumer's freshness against its SLO, from the commits alone.
func writeViewsStatus(ctx context.Context, out io.Writer, p *pipeline.Pipeline, store lake.Store, now time.Time) error {
	files, _ := filepath.Glob(filepath.Join(p.Dir, views.Dir, "*.sql"))
	if len(files) == 0 && len(p.Consumers) == 0 {
		return nil
	}
	vs, err := views.Load(ctx, p, jobenv.EngineConfig(p.DuckDB, nil))
	if err != nil {
		return err
	}
	vstats, cstats, err := views.Status(ctx, store, p, vs, now)
	if err != nil {
		return err
	}
	w := newTabWriter(out)
	fmt.Fprintln(w, "\nVIEW\tVERSION\tREFRESHED\tMODE\tDURATION\tREFLECTS THROUGH\tWHY")
	for _, v := range vstats {
		if len(v.Refreshes) == 0 {
			fmt.Fprintf(w, "%s\t-\t-\t-\t-\t-\tnever refreshed\n", v.Name)
		}
		for _, r := range v.Refreshes {
			through := "-"
			if !r.Through.IsZero() {
				through = r.Through.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(w, "%s\tv%d\t%s\t%s\t%s\t%s\t%s\n", v.Name, r.Version, r.At.UTC().Format(time.RFC3339), r.Mode,
				r.Duration.Round(time.Millisecond), through, r.Reason)
		}
	}
	if len(cstats) > 0 {
		fmt.Fprintln(w, "\nCONSUMER\tFRESHNESS\tSLO\tSTALEST READ\tLEVEL")
		for _, c := range cstats {
			fresh := "-"
			if c.Level != views.LevelUnknown {
				fresh = c.Freshness.Round(time.Second).String()
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", c.Name, fresh, c.SLO, c.Stalest, c.Level)
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if len(cstats) > 0 {
		fmt.Fprintln(out, "(freshness: now minus the ingest time through which every event is in what the consumer reads; unknown: never refreshed or built)")
	}
	return nil
}
