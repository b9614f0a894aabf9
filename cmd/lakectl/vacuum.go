package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lakectl/lakectl/lake"
)

// defaultRetention is Delta's customary retention: a week, so that readers and writers
// working from an older snapshot, and time travel within the week, still find their files.
const defaultRetention = "168h"

// minRetention guards against deleting files that a running job uploaded but has not
// committed yet (an hourly Silver run takes minutes): less needs --force.
const minRetention = time.Hour

func newVacuumCmd() *cobra.Command {
	var (
		retain string
		dryRun bool
		force  bool
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "vacuum URL",
		Short: "Delete data files and expired commits that the table no longer needs",
		Long: `Delete the files of a Delta table that no version within the retention period
references: data files removed more than --retain ago (or never committed and older
than that), and JSON commits older than both the retention and the newest checkpoint.
It prints every file it deletes, or with --dry-run would delete, and a total; --json
prints one object: dryRun, files (key and size each), dataFiles, logFiles, bytes.`,
		Example: `  lakectl vacuum ./lake/silver/events --dry-run
  lakectl vacuum s3://lake/bronze/events --retain 7d --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			retention, err := parseRetention(retain)
			if err != nil {
				return err
			}
			if retention < minRetention && !dryRun && !force {
				return hinted(fmt.Errorf("--retain %s is shorter than %s: files that a running job has uploaded but not yet committed could be deleted", retain, minRetention),
					"stop every writer of the table first, then add --force")
			}
			// A dry run deletes nothing, so it needs no write access (nor the probe
			// that checks an S3 endpoint's conditional writes).
			t, err := openTable(cmd.Context(), args[0], dryRun)
			if err != nil {
				return err
			}
			res, err := t.Vacuum(cmd.Context(), lake.VacuumOptions{Retain: retention, DryRun: dryRun})
			if err != nil {
				return withTableHint(err) // lake names the table and the operation
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), newVacuumView(res, dryRun))
			}
			return writeVacuumText(cmd.OutOrStdout(), res, dryRun)
		},
	}
	cmd.Flags().StringVar(&retain, "retain", defaultRetention, "keep files needed by versions newer than this (a Go duration, or days as 7d)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "list what would be deleted, delete nothing")
	cmd.Flags().BoolVar(&force, "force", false, "allow a retention shorter than 1h (no writer may be running)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object instead of a line per file")
	return cmd
}

// parseRetention reads a Go duration, and also whole days ("7d"), the unit retention
// is usually thought in.
func parseRetention(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		n, err = strconv.Atoi(days)
		d = time.Duration(n) * 24 * time.Hour
	}
	if err != nil || d < 0 {
		return 0, fmt.Errorf("--retain %q: want a non-negative duration such as 168h or 7d", s)
	}
	if d == 0 {
		// lake.VacuumOptions reads zero as "the default"; a user who types 0 means
		// "nothing is retained", which the smallest positive duration says.
		d = time.Nanosecond
	}
	return d, nil
}

// vacuumView is the JSON form of `vacuum`; keys are relative to the table root.
type vacuumView struct {
	DryRun    bool             `json:"dryRun"`
	Files     []vacuumViewFile `json:"files"`
	DataFiles int              `json:"dataFiles"`
	LogFiles  int              `json:"logFiles"`
	Bytes     int64            `json:"bytes"`
}

type vacuumViewFile struct {
	Key  string `json:"key"`
	Size int64  `json:"size"`
}

func newVacuumView(res lake.VacuumResult, dryRun bool) vacuumView {
	v := vacuumView{DryRun: dryRun, Files: []vacuumViewFile{}, DataFiles: res.DataFiles, LogFiles: res.LogFiles}
	for _, f := range res.Files {
		v.Files = append(v.Files, vacuumViewFile{Key: f.Key, Size: f.Size})
		v.Bytes += f.Size
	}
	return v
}

// writeVacuumText prints one line per file, then the total; keys are relative to the
// table root, which is the store's root.
func writeVacuumText(w io.Writer, res lake.VacuumResult, dryRun bool) error {
	verb := "deleted"
	if dryRun {
		verb = "would delete"
	}
	var total int64
	for _, f := range res.Files {
		total += f.Size
		if _, err := fmt.Fprintf(w, "%s %s (%s)\n", verb, f.Key, formatBytes(f.Size)); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "total: %s %d files (%d data, %d log), %s\n",
		verb, len(res.Files), res.DataFiles, res.LogFiles, formatBytes(total))
	return err
}
