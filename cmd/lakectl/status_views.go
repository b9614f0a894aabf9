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

// viewsStatus reads each view's version and recent refreshes and each consumer's
// freshness at now, from the commits alone; none without views or consumers. A view
// that views.LoadAll refuses is listed with its Error.
func viewsStatus(ctx context.Context, p *pipeline.Pipeline, store lake.Store, now time.Time) ([]views.ViewStatus, []views.ConsumerStatus, error) {
	files, _ := filepath.Glob(filepath.Join(p.Dir, views.Dir, "*.sql"))
	if len(files) == 0 && len(p.Consumers) == 0 {
		return []views.ViewStatus{}, []views.ConsumerStatus{}, nil
	}
	vs, err := views.LoadAll(ctx, p, jobenv.EngineConfig(p.DuckDB, nil))
	if err != nil {
		return nil, nil, err
	}
	return views.Status(ctx, store, p, vs, now)
}

// writeViewsStatus prints each view's version and recent refreshes, then each
// consumer's freshness against its SLO.
func writeViewsStatus(out io.Writer, vstats []views.ViewStatus, cstats []views.ConsumerStatus) error {
	if len(vstats) == 0 && len(cstats) == 0 {
		return nil
	}
	w := newTabWriter(out)
	fmt.Fprintln(w, "\nVIEW\tVERSION\tREFRESHED\tMODE\tDURATION\tEVENTS THROUGH\tINGESTED THROUGH\tWHY")
	for _, v := range vstats {
		if len(v.Refreshes) == 0 && v.Error == nil {
			fmt.Fprintf(w, "%s\t-\t-\t-\t-\t-\t-\tnever refreshed\n", v.Name)
		}
		for _, r := range v.Refreshes {
			fmt.Fprintf(w, "%s\tv%d\t%s\t%s\t%s\t%s\t%s\t%s\n", v.Name, r.Version, r.At.UTC().Format(time.RFC3339), r.Mode,
				r.Duration.Round(time.Millisecond), timeOrDash(r.Through), timeOrDash(r.Ingested), r.Reason)
		}
		if v.Error != nil {
			fmt.Fprintf(w, "%s\t-\t-\t-\t-\t-\t-\tinvalid: %s\n", v.Name, v.Error)
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
		fmt.Fprintln(out, "(freshness: now minus the event time through which what the consumer reads holds every event, late ones aside; unknown: never refreshed or built)")
	}
	return nil
}

func timeOrDash(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
