package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/silver"
)

func newRunSilverCmd() *cobra.Command {
	var (
		pf             pipelineFlags
		hour, from, to string
		pending, force bool
		reprocess      bool
		reenrich       bool
		jsonOut        bool
	)
	cmd := &cobra.Command{
		Use:   "silver [TABLE...] (--hour H | --pending | --from H1 --to H2 | --reenrich)",
		Short: "Clean ingest hours of Bronze into Silver tables",
		Long: `Parse, check, deduplicate and enrich the Bronze events of an ingest hour into the
Silver tables of lakectl.yaml (all of them unless TABLE is given). Rows that fail the
contract go to quarantine/<table>. An hour is processed once: a run of an hour that is
done does nothing, so schedule it as often as you like. H is an ingest hour in UTC,
2026-11-21T08, or an RFC 3339 time on the hour.

An hour that is not sealed yet is refused unless --force; an hour after the current
one is refused always. An hour without Bronze data, such as one before the stream's
first data, is skipped with one line and no commit. A backfill (--from/--to) first
says on stderr how many of its hours hold data, and runs only those; one that
reaches an open hour processes every hour before it, then stops with one line on
stderr naming the open hour, and exits 0; it exits 1 only when the first hour it
would run is open, since then it did nothing.

--reprocess runs hours that are already processed again (with --hour or --from/--to):
after table check --repair removed lost Silver files, it writes their rows again,
while the dedupe against the Silver partitions keeps the rows still there from
doubling.

--reenrich fills the Silver rows that wait for a reference row (enrich: with
on_missing: keep stores an event whose key the reference lacks, marked in
_missing_refs) once the reference has it: each table's partitions that hold a filled
row are rewritten in one commit, which lists them; the others are not touched.
lakectl status shows how many rows wait, by reference table.`,
		Example: `  lakectl run silver --hour 2026-11-21T08
  lakectl run silver events --pending --json
  lakectl run silver --from 2026-11-01T00 --to 2026-11-21T23
  lakectl run silver --hour "$(date -u +%Y-%m-%dT%H)" --force   # the current, open hour
  lakectl run silver --reenrich   # after lakectl ref load added late users`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if reenrich {
				if hour != "" || from != "" || to != "" || pending || force || reprocess {
					return usageErrorf("run lakectl run silver --reenrich on its own", "--reenrich works on rows already in Silver, not on ingest hours")
				}
				return runReenrich(cmd, pf, args, jsonOut)
			}
			hours, err := hourFlags(hour, from, to, pending)
			if err != nil {
				return err
			}
			if reprocess && pending {
				return usageErrorf("give the hours with --hour or --from/--to", "--reprocess runs processed hours again; --pending picks only unprocessed ones")
			}
			env, err := pf.open(ctx, false)
			if err != nil {
				return err
			}
			tables := env.silverTables(args)
			if len(tables) == 0 {
				return usageErrorf("declare one under silver: in "+env.p.File, "no silver tables in %s", env.p.File)
			}
			job := env.job(killHook())
			out := cmd.OutOrStdout()
			for _, table := range tables {
				var todo []layout.Hour
				switch {
				case hours.single:
					sum, err := job.RunHour(ctx, table, hours.from, silver.RunOptions{Force: force})
					if err != nil {
						return err
					}
					printSummary(out, sum, jsonOut)
					continue
				case !hours.pending:
					// A range says first how much of it holds data, and runs only that.
					cov, err := job.Coverage(ctx, table, hours.from, hours.to)
					if err != nil {
						return err
					}
					fmt.Fprintln(cmd.ErrOrStderr(), cov)
					todo = cov.Data
				}
				if pending {
					if todo, err = job.Pending(ctx, table); err != nil {
						return err
					}
					if len(todo) == 0 {
						// --json keeps stdout to summaries, one per line.
						w := out
						if jsonOut {
							w = cmd.ErrOrStderr()
						}
						fmt.Fprintf(w, "%s: no pending hours\n", table)
					}
				}
				bar := newRangeBar(os.Stderr, len(todo), table)
				if len(todo) > 0 {
					bar.describe(table + " " + todo[0].String())
				}
				done := 0
				err := job.RunHours(ctx, table, todo, silver.RunOptions{Force: force, Reprocess: reprocess}, func(sum silver.Summary) {
					bar.clear()
					printSummary(out, sum, jsonOut)
					if done++; done < len(todo) {
						bar.describe(table + " " + todo[done].String())
					}
					bar.add()
				})
				bar.clear()
				var unsealed *silver.UnsealedError
				if errors.As(err, &unsealed) && unsealed.Done > 0 {
					// A backfill that reaches the open hours did all it could: say where it
					// stopped, and go on with the next table.
					fmt.Fprintf(cmd.ErrOrStderr(), "lakectl: %s: stopped at ingest hour %s, not sealed yet (%d earlier hours done); --force would process it partially\n",
						table, unsealed.Hour, unsealed.Done)
					continue
				}
				if err != nil {
					return err
				}
			}
			return nil
		},
	}
	pf.register(cmd)
	f := cmd.Flags()
	f.StringVar(&hour, "hour", "", "the ingest hour to process, e.g. 2026-11-21T08 (UTC)")
	f.BoolVar(&pending, "pending", false, "process every sealed hour not processed yet, oldest first")
	f.StringVar(&from, "from", "", "first ingest hour of a backfill")
	f.StringVar(&to, "to", "", "last ingest hour of a backfill (inclusive)")
	f.BoolVar(&force, "force", false, "process an hour that is not sealed yet (it is processed again once sealed)")
	f.BoolVar(&reprocess, "reprocess", false, "run hours that are already processed again (after table check --repair)")
	f.BoolVar(&reenrich, "reenrich", false, "fill the Silver rows that wait for a reference row, once the reference has it")
	f.BoolVar(&jsonOut, "json", false, "print each hour's summary as one JSON object per line")
	return cmd
}

// runReenrich re-enriches the tables of args (default: every Silver table).
func runReenrich(cmd *cobra.Command, pf pipelineFlags, args []string, jsonOut bool) error {
	ctx := cmd.Context()
	env, err := pf.open(ctx, false)
	if err != nil {
		return err
	}
	job := env.job(killHook())
	for _, table := range env.silverTables(args) {
		sum, err := job.Reenrich(ctx, table)
		if err != nil {
			return err
		}
		out := cmd.OutOrStdout()
		switch {
		case jsonOut:
			writeJSONLine(out, sum)
		case sum.Filled == 0:
			fmt.Fprintf(out, "%s: %d rows wait for a reference, none found yet; nothing committed\n", sum.Table, sum.Waiting)
		default:
			parts := sum.Partitions[0].String()
			if n := len(sum.Partitions); n > 1 {
				parts += " … " + sum.Partitions[n-1].String()
			}
			fmt.Fprintf(out, "%s: filled %d of %d waiting rows, partitions %d (%s), %s, silver v%d\n", sum.Table, sum.Filled, sum.Waiting,
				len(sum.Partitions), parts, time.Duration(sum.Duration).Round(time.Millisecond), sum.Version)
		}
	}
	return nil
}

// hourChoice is the hours a command line asks for: one hour (single, from), a range
// (from, to), or the pending ones.
type hourChoice struct {
	single, pending bool
	from, to        layout.Hour
}

// hourFlags checks that exactly one way to choose hours was given, and parses it.
func hourFlags(hour, from, to string, pending bool) (hourChoice, error) {
	const hint = "give --hour 2026-11-21T08, or --pending, or --from 2026-11-21T00 --to 2026-11-21T23"
	ways := 0
	for _, set := range []bool{hour != "", pending, from != "" || to != ""} {
		if set {
			ways++
		}
	}
	if ways != 1 {
		return hourChoice{}, usageErrorf(hint, "choose the hours to process in one way")
	}
	switch {
	case hour != "":
		h, err := parseHourFlag("hour", hour)
		return hourChoice{single: true, from: h, to: h}, err
	case pending:
		return hourChoice{pending: true}, nil
	}
	if from == "" || to == "" {
		return hourChoice{}, usageErrorf(hint, "--from and --to go together")
	}
	h1, err := parseHourFlag("from", from)
	if err != nil {
		return hourChoice{}, err
	}
	h2, err := parseHourFlag("to", to)
	if err != nil {
		return hourChoice{}, err
	}
	if h2.Time().Before(h1.Time()) {
		return hourChoice{}, usageErrorf("swap them", "--to %s is before --from %s", h2, h1)
	}
	return hourChoice{from: h1, to: h2}, nil
}

// hourForms are the ways to write an ingest hour on the command line.
const hourForms = "an ingest hour is written 2026-11-21T08 (UTC), or as an RFC 3339 time on the hour: 2026-11-21T08:00:00Z, 2026-11-21T10:00:00+02:00"

// parseHourFlag reads an ingest hour. An RFC 3339 time must fall on a UTC hour: a
// time with minutes names no hour, and rounding it down would process an hour the
// user did not write.
func parseHourFlag(flag, v string) (layout.Hour, error) {
	h, err := layout.ParseHour(v)
	if err != nil {
		return h, usageErrorf(hourForms, "bad --%s %q: not an hour", flag, v)
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil && !t.Equal(h.Time()) {
		return h, usageErrorf(hourForms, "bad --%s %q: an hour has no minutes, seconds or fractions (UTC)", flag, v)
	}
	return h, nil
}

func printSummary(w io.Writer, s silver.Summary, asJSON bool) {
	if asJSON {
		writeJSONLine(w, s)
		return
	}
	if s.Skipped {
		fmt.Fprintf(w, "%s %s: already processed (bronze v%d; --reprocess runs it again)\n", s.Table, s.Hour, s.BronzeVersion)
		return
	}
	if s.Empty {
		switch first := s.FirstDataHour; {
		case first == nil:
			fmt.Fprintf(w, "%s %s: skipped, the stream holds no data yet; nothing committed\n", s.Table, s.Hour)
		case s.Hour.Time().Before(first.Time()):
			fmt.Fprintf(w, "%s %s: skipped, before the stream's first data (%s); nothing committed\n", s.Table, s.Hour, first)
		default:
			fmt.Fprintf(w, "%s %s: skipped, no Bronze data in this hour; nothing committed\n", s.Table, s.Hour)
		}
		return
	}
	// Late data can touch many partitions: name the range, --json lists them all.
	parts := ""
	switch n := len(s.Partitions); {
	case n == 1:
		parts = " (" + s.Partitions[0].String() + ")"
	case n > 1:
		parts = fmt.Sprintf(" (%s … %s)", s.Partitions[0], s.Partitions[n-1])
	}
	fmt.Fprintf(w, "%s %s: in %d, valid %d, quarantined %d, duplicates %d, late %d, written %d, partitions %d%s, rewritten %d, %s, silver v%d\n",
		s.Table, s.Hour, s.RowsIn, s.Valid, s.Quarantined, s.Duplicates, s.Late, s.Written,
		len(s.Partitions), parts, len(s.Rewritten), time.Duration(s.Duration).Round(time.Millisecond), s.Version)
}
