package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/silver"
)

func newTableCheckCmd() *cobra.Command {
	var (
		asJSON, repair, removeCorrupt, yes bool
	)
	cmd := &cobra.Command{
		Use:   "check URL",
		Short: "Check that every live file of a table is present, readable and as its log says",
		Long: `Check every live file of the table's latest version: that it is in the store, that its
Parquet footer parses, and that its size and row count are those its add records
(size, stats.numRecords). Prints one line per problem and exits 1 if there is any.

--repair then removes the adds of the missing files from the table, in one commit
recorded as FSCK (as Delta's FSCK REPAIR TABLE does), after showing them and asking
for confirmation on a terminal; --yes confirms without asking (needed when stdin is
not a terminal). Files that are present but corrupt (unreadable, wrong size or row
count) are only reported: they may be restored in place; --remove-corrupt removes them
too. A removed file's object stays in the store until vacuum. For a Silver table the
repair names the partitions whose rows went with the files and the run silver
--reprocess command that writes them again.`,
		Example: `  lakectl table check ./lake/silver/events
  lakectl table check s3://lake/silver/events --repair
  lakectl table check ./lake/silver/events --repair --yes --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if (removeCorrupt || yes) && !repair {
				return usageErrorf("add --repair", "--remove-corrupt and --yes go with --repair")
			}
			c := &checkRun{url: args[0], out: cmd.OutOrStdout(), errOut: cmd.ErrOrStderr(), asJSON: asJSON}
			if !repair {
				return c.check(cmd.Context())
			}
			confirm := func(n int) (bool, error) {
				if yes {
					return true, nil
				}
				if !isTerminal(os.Stdin) {
					return false, hinted(errors.New("repair needs confirmation and stdin is not a terminal"),
						"check the list above, then add --yes")
				}
				return askYes(os.Stdin, cmd.ErrOrStderr(), fmt.Sprintf("remove %s from %s?", count(n, "file"), args[0])), nil
			}
			return c.repair(cmd.Context(), removeCorrupt, confirm)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&asJSON, "json", false, "print one JSON object instead of lines")
	f.BoolVar(&repair, "repair", false, "remove the adds of missing files in one FSCK commit")
	f.BoolVar(&removeCorrupt, "remove-corrupt", false, "with --repair: remove unreadable files and files of the wrong size or row count too")
	f.BoolVar(&yes, "yes", false, "with --repair: do not ask for confirmation")
	return cmd
}

// checkRun is one `table check`: what it prints and where.
type checkRun struct {
	url         string
	out, errOut io.Writer
	asJSON      bool
}

// check runs the check and prints its report; a problem is an error (exit 1).
func (c *checkRun) check(ctx context.Context) error {
	_, _, rep, err := c.load(ctx, true)
	if err != nil {
		return err
	}
	if err := c.print(rep, nil); err != nil {
		return err
	}
	hint := "restore the files in place, or remove them from the table with --repair --remove-corrupt"
	if len(rep.Missing()) > 0 {
		hint = "lakectl table check " + c.url + " --repair removes the missing files from the table"
	}
	return problemsError(c.url, rep, hint)
}

// repair checks, shows what it will remove, asks, removes in one commit, and says how
// to restore the rows of a Silver table.
func (c *checkRun) repair(ctx context.Context, removeCorrupt bool, confirm func(n int) (bool, error)) error {
	t, snap, rep, err := c.load(ctx, false)
	if err != nil {
		return err
	}
	todo := rep.Missing()
	if removeCorrupt {
		todo = rep.Problems
	}
	if len(todo) == 0 {
		if err := c.print(rep, &repairView{Version: -1}); err != nil {
			return err
		}
		return problemsError(c.url, rep, "--remove-corrupt removes them from the table too")
	}
	if !c.asJSON {
		if err := c.print(rep, nil); err != nil {
			return err
		}
	}
	fmt.Fprintf(c.errOut, "to remove from %s in one commit (the objects stay until vacuum):\n", c.url)
	for _, p := range todo {
		fmt.Fprintf(c.errOut, "  %s (%s)\n", p.File.DecodedPath(), p.Kind)
	}
	ok, err := confirm(len(todo))
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("repair cancelled: nothing removed")
	}
	res, err := t.Repair(ctx, snap, todo)
	if err != nil {
		return withTableHint(err)
	}
	view := &repairView{Version: res.Version, Removed: decodedPaths(res.Removed), Skipped: decodedPaths(res.Skipped)}
	if res.Version >= 0 {
		history, err := t.History(ctx)
		if err != nil {
			return withTableHint(err)
		}
		if plan, ok := silver.RestorePlan(snap, history, res.Removed); ok {
			view.Restore = &restoreView{Restore: plan, Command: restoreCommand(plan)}
		}
	}
	if c.asJSON {
		if err := c.print(rep, view); err != nil {
			return err
		}
	} else if err := writeRepairText(c.out, view); err != nil {
		return err
	}
	left := len(rep.Problems) - len(res.Removed) - len(res.Skipped)
	if left > 0 {
		return hinted(fmt.Errorf("%s: %s not as the log says still in the table", c.url, count(left, "file")),
			"restore them in place, or remove them with --repair --remove-corrupt")
	}
	return nil
}

// load opens the table, loads its latest snapshot and checks it.
func (c *checkRun) load(ctx context.Context, readOnly bool) (*lake.Table, *lake.Snapshot, lake.CheckReport, error) {
	t, err := openTable(ctx, c.url, readOnly)
	if err != nil {
		return nil, nil, lake.CheckReport{}, err
	}
	snap, err := t.Latest(ctx)
	if err != nil {
		return nil, nil, lake.CheckReport{}, withTableHint(err)
	}
	rep, err := t.Check(ctx, snap)
	if err != nil {
		return nil, nil, lake.CheckReport{}, withTableHint(err)
	}
	return t, snap, rep, nil
}

// problemsError is the exit-1 error of a report with problems, nil without.
func problemsError(url string, rep lake.CheckReport, hint string) error {
	if len(rep.Problems) == 0 {
		return nil
	}
	return hinted(fmt.Errorf("%s v%d: %d of %s not as the log says", url, rep.Version, len(rep.Problems), count(rep.Files, "live file")), hint)
}

// askYes asks question on w and reads the answer from in: only y or yes confirms; no
// answer (end of input) is no.
func askYes(in io.Reader, w io.Writer, question string) bool {
	fmt.Fprintf(w, "%s [y/N] ", question)
	line, _ := bufio.NewReader(in).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	return false
}

// count says "1 file", "2 files".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func decodedPaths(adds []lake.Add) []string {
	out := make([]string, len(adds))
	for i, a := range adds {
		out[i] = a.DecodedPath()
	}
	return out
}

// restoreCommand is the command that writes the rows of a Silver restore again.
func restoreCommand(r silver.Restore) string {
	return fmt.Sprintf("lakectl run silver %s --from %s --to %s --reprocess", r.Table, r.From, r.To)
}

// checkView is the JSON form of `table check`; paths are relative to the table root
// and percent-decoded.
type checkView struct {
	Table    string             `json:"table"`
	Version  int64              `json:"version"`
	Files    int                `json:"files"`
	Problems []checkProblemView `json:"problems"`
	Repair   *repairView        `json:"repair,omitempty"`
}

type checkProblemView struct {
	Path            string             `json:"path"`
	Kind            lake.ProblemKind   `json:"kind"`
	Detail          string             `json:"detail"`
	PartitionValues map[string]*string `json:"partitionValues"`
	Size            int64              `json:"size"`
	NumRecords      *int64             `json:"numRecords"`
}

// repairView says what --repair did: the FSCK version (-1: no commit), the files it
// removed, those it kept because they were back, and how to restore Silver rows.
type repairView struct {
	Version int64        `json:"version"`
	Removed []string     `json:"removed"`
	Skipped []string     `json:"skipped"`
	Restore *restoreView `json:"restore,omitempty"`
}

type restoreView struct {
	silver.Restore
	Command string `json:"command"`
}

// print writes the report (and, in JSON, the repair) to c.out.
func (c *checkRun) print(rep lake.CheckReport, repair *repairView) error {
	if c.asJSON {
		v := checkView{Table: c.url, Version: rep.Version, Files: rep.Files, Problems: []checkProblemView{}, Repair: repair}
		for _, p := range rep.Problems {
			pv := checkProblemView{Path: p.File.DecodedPath(), Kind: p.Kind, Detail: p.Detail,
				PartitionValues: p.File.PartitionValues, Size: p.File.Size}
			if st, ok, err := p.File.ParseStats(); ok && err == nil {
				pv.NumRecords = &st.NumRecords
			}
			v.Problems = append(v.Problems, pv)
		}
		return writeJSON(c.out, v)
	}
	fmt.Fprintf(c.out, "%s v%d: %s checked, %s\n", c.url, rep.Version, count(rep.Files, "live file"), count(len(rep.Problems), "problem"))
	tw := newTabWriter(c.out)
	for _, p := range rep.Problems {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", p.Kind, p.File.DecodedPath(), p.Detail)
	}
	return tw.Flush()
}

// writeRepairText prints what --repair did.
func writeRepairText(w io.Writer, v *repairView) error {
	for _, p := range v.Skipped {
		fmt.Fprintf(w, "kept %s: it is as the log says again\n", p)
	}
	if v.Version < 0 {
		_, err := fmt.Fprintln(w, "nothing removed")
		return err
	}
	fmt.Fprintf(w, "removed %s in v%d (%s)\n", count(len(v.Removed), "file"), v.Version, lake.OperationFSCK)
	if r := v.Restore; r != nil {
		parts := make([]string, len(r.Partitions))
		for i, p := range r.Partitions {
			parts[i] = p.String()
		}
		fmt.Fprintf(w, "their rows are gone from silver.%s partitions %s; write them again with\n  %s\n",
			r.Table, strings.Join(parts, ", "), r.Command)
	}
	return nil
}
