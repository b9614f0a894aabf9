package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lakectl/lakectl/bronze"
	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/stores"
	"github.com/lakectl/lakectl/pipeline"
	"github.com/lakectl/lakectl/pipeline/jobenv"
	"github.com/lakectl/lakectl/silver"
	"github.com/lakectl/lakectl/views"
)

func newStatusCmd() *cobra.Command {
	var (
		lf      lakeFlags
		streams []string
		brokers []string
		grace   time.Duration
		asJSON  bool
	)
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the state of the lake: Bronze tables, their ledgers and sealed hours, stale Gold days, views and consumers' freshness",
		Long: `Show each Bronze table: its version, files and rows, its last commit, the time
through which it is sealed and the last sealed ingest hour; then each source
(Kafka partition or HTTP) with its next offset, its sealing mark and, with
--brokers, its lag. With a pipeline, then, each Silver table's rows that wait for
a reference row (enrich: with on_missing: keep), by reference table; lakectl run
silver --reenrich fills them. Only reads: read-only credentials are enough.

With a pipeline (--pipeline DIR, $LAKECTL_PIPELINE, or a lakectl.yaml in the working
directory), the lake and each stream's grace come from lakectl.yaml; --lake,
$LAKECTL_LAKE, --grace and $LAKECTL_GRACE override it. With a pipeline that has
models, the text output then lists each Gold model's last complete day and its stale
days with why (the input commits and the days they touched, or a gap); with views or
consumers, each view's version and recent refreshes (mode, duration, why, the
event time through which it reflects the events and the ingest mark that bounds
it), then each consumer's freshness against its SLO: now minus the event time
through which the tables it reads reflect the events; ok up to its warn level, warn
up to its breach level, breach beyond.

--json prints one object with a field per layer, so that a layer added later adds a
field: "bronze", an array of the Bronze tables; "gold", an array of the models, each
{model, complete_through, stale: [{day, reasons, completeness, why}]}; "views", each
{name, version, refreshes: [{version, at, mode, reason, duration, through,
ingested_through, inputs}]}; "consumers", each {name, slo, freshness, stalest,
level} (durations in nanoseconds; empty without a pipeline).

A model or view file that lakectl refuses (run gold and views refresh refuse it
too) does not hide the rest: status prints everything else, lists the file as
invalid with why (its file and line) in the GOLD or VIEW table, and exits 1 at
the end. In --json, that model's or view's entry has "error": {file, line,
message} (line absent when the problem has no single place); a model has nothing
else then, a view still its refreshes. A model that reads a refused model is
refused too: it cannot be checked.`,
		Example: `  lakectl status --lake ./lake
  lakectl status --pipeline ./demo
  lakectl status --lake s3://lake/prod --stream events --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			l, err := lf.open(cmd, pipeline.Overrides{Grace: graceOverride(cmd, grace)}, stores.Options{ReadOnly: true})
			if err != nil {
				return err
			}
			graces := sealGraces(l.pipeline, grace)
			store := l.store
			discovered := len(streams) == 0
			if discovered {
				if streams, err = bronze.Streams(ctx, store); err != nil {
					return err
				}
			}
			out := []bronze.StreamStatus{}
			for _, s := range streams {
				st, err := bronze.Status(ctx, store, s, bronze.StatusOptions{Grace: graces.Of(s), Brokers: brokers})
				if discovered && errors.Is(err, lake.ErrNoTable) {
					continue // registered by an ingest that has not committed yet
				}
				if err != nil {
					return err
				}
				out = append(out, st)
			}
			models := []modelStatus{}
			vstats, cstats := []views.ViewStatus{}, []views.ConsumerStatus{}
			if l.pipeline != nil {
				if models, err = goldStatus(ctx, l.pipeline, store); err != nil {
					return err
				}
				if vstats, cstats, err = viewsStatus(ctx, l.pipeline, store, time.Now()); err != nil {
					return err
				}
			}
			refused := refusedFiles(models, vstats)
			if asJSON {
				if err := writeJSON(cmd.OutOrStdout(), statusJSON{Bronze: out, Gold: models, Views: vstats, Consumers: cstats}); err != nil {
					return err
				}
				return refused
			}
			if err := writeStatusText(cmd.OutOrStdout(), out); err != nil {
				return err
			}
			if l.pipeline == nil {
				return nil
			}
			job := silver.NewJob(silver.Config{Env: jobenv.Env{Store: store, Pipeline: l.pipeline, Cache: pipelineCache(l.pipeline, store)}})
			if err := writeWaitingText(cmd, job, l.pipeline); err != nil {
				return err
			}
			if err := writeGoldStatus(cmd.OutOrStdout(), models); err != nil {
				return err
			}
			if err := writeViewsStatus(cmd.OutOrStdout(), vstats, cstats); err != nil {
				return err
			}
			return refused
		},
	}
	f := cmd.Flags()
	lf.register(cmd)
	f.StringArrayVar(&streams, "stream", nil, "stream to show (repeatable; default: every Bronze table)")
	f.StringSliceVar(&brokers, "brokers", nil, "Kafka seed brokers, to show each partition's lag (default: no lag)")
	bindEnv(f, "brokers", "LAKECTL_BROKERS")
	f.DurationVar(&grace, "grace", layout.DefaultGrace, "grace after an hour before it counts as sealed, for every stream (default: each stream's grace in lakectl.yaml, else 5m)")
	bindEnv(f, "grace", "LAKECTL_GRACE")
	f.BoolVar(&asJSON, "json", false, `print one JSON object instead of tables: {"bronze": [tables...], "gold": [models...], "views": [...], "consumers": [...]}`)
	return cmd
}

// statusJSON is the document of status --json: a field per layer.
type statusJSON struct {
	Bronze    []bronze.StreamStatus  `json:"bronze"`
	Gold      []modelStatus          `json:"gold"`
	Views     []views.ViewStatus     `json:"views"`
	Consumers []views.ConsumerStatus `json:"consumers"`
}

// refusedFiles is the error of status when a model or view file is refused, once
// everything else is printed: it lists them all, so that a script notices; nil when
// none is.
func refusedFiles(models []modelStatus, vstats []views.ViewStatus) error {
	var msgs []string
	for _, m := range models {
		if m.Error != nil {
			msgs = append(msgs, m.Error.Error())
		}
	}
	for _, v := range vstats {
		if v.Error != nil {
			msgs = append(msgs, v.Error.Error())
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return fmt.Errorf("refused model or view files: %s", strings.Join(msgs, "; "))
}

// writeStatusText prints two tables: one line per Bronze table, then one per source
// of each.
func writeStatusText(out io.Writer, tables []bronze.StreamStatus) error {
	w := newTabWriter(out)
	fmt.Fprintln(w, "BRONZE\tVERSION\tFILES\tROWS\tLAST COMMIT\tSEALED THROUGH\tLAST SEALED HOUR")
	for _, st := range tables {
		sealed := "-"
		if st.SealedThrough != nil {
			sealed = st.SealedThrough.Format(time.RFC3339)
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%s\t%s\t%s\n", st.Stream, st.Version, st.Files, st.Rows,
			st.LastCommit.Format(time.RFC3339), sealed, orDash(st.LastSealed))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	w = newTabWriter(out)
	fmt.Fprintln(w, "\nSTREAM\tSOURCE\tNEXT OFFSET\tSEALED THROUGH (MARK)\tLAG")
	for _, st := range tables {
		for _, p := range st.Partitions {
			src, mark, lag := fmt.Sprintf("kafka %s/%d", p.Topic, p.Partition), "-", "-"
			if p.Partition < 0 {
				src = "http"
			}
			if p.Mark != nil {
				mark = p.Mark.Format(time.RFC3339)
			}
			if p.Lag != nil {
				lag = fmt.Sprint(*p.Lag)
			}
			fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\n", st.Stream, src, p.Next, mark, lag)
		}
	}
	return w.Flush()
}

// writeWaitingText prints, for each Silver table of p with on_missing: keep
// enrichments, how many rows wait for each reference table.
func writeWaitingText(cmd *cobra.Command, job *silver.Job, p *pipeline.Pipeline) error {
	w := newTabWriter(cmd.OutOrStdout())
	fmt.Fprintln(w, "\nSILVER\tREFERENCE\tROWS WAITING")
	for _, t := range p.Silver {
		var refs []string
		for _, e := range t.Enrich {
			if e.OnMissing == pipeline.MissingKeep && !slices.Contains(refs, e.Ref) {
				refs = append(refs, e.Ref)
			}
		}
		if len(refs) == 0 {
			continue
		}
		waiting, err := job.Waiting(cmd.Context(), t.Name)
		if err != nil {
			return err
		}
		for _, ref := range refs {
			fmt.Fprintf(w, "%s\t%s\t%d\n", t.Name, ref, waiting[ref])
		}
	}
	return w.Flush()
}
