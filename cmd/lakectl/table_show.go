package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lakectl/lakectl/lake"
)

func newTableShowCmd() *cobra.Command {
	var (
		version int64
		asOf    string
		asJSON  bool
	)
	cmd := &cobra.Command{
		Use:   "show URL",
		Short: "Show a table's version, protocol, schema, partitioning, live files and txns",
		Long: `Show the state of a Delta table at its latest version, at --version N, or as of a
time (--as-of 2026-11-21T08:00:00Z, or a date, 2026-11-21, meaning its midnight UTC).

With --json the output is one JSON object: version, timestamp, minReaderVersion,
minWriterVersion, schema, partitionColumns, files (sorted by path; path relative to
the table root and percent-decoded; partitionValues; size; numRecords or null) and
txns (appId -> latest version).`,
		Example: `  lakectl table show ./lake/silver/events
  lakectl table show s3://lake/silver/events --as-of 2026-11-20 --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			at := snapshotSelector{}
			if cmd.Flags().Changed("version") {
				if version < 0 {
					return usageErrorf("versions count from 0; lakectl table history lists them", "--version %d: a version is not negative", version)
				}
				at.version = &version
			}
			if asOf != "" {
				if at.version != nil {
					return usageErrorf("--version picks a version by number, --as-of by time", "--version and --as-of: give one of them")
				}
				t, err := parseAsOf(asOf)
				if err != nil {
					return usageErrorf("lakectl table history URL lists the commit times", "%v", err)
				}
				at.asOf = &t
			}
			snap, err := loadSnapshot(cmd.Context(), args[0], at)
			if err != nil {
				return err
			}
			view, err := newShowView(args[0], snap)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), view)
			}
			return view.writeText(cmd.OutOrStdout())
		},
	}
	cmd.Flags().Int64Var(&version, "version", 0, "show the table at this version (default: the latest)")
	cmd.Flags().StringVar(&asOf, "as-of", "", "show the newest version committed at or before this time (RFC 3339, or YYYY-MM-DD meaning its midnight UTC)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object instead of a summary")
	return cmd
}

// parseAsOf reads a time given as RFC 3339 or as a date, which means the start of that
// day in UTC, the way SQL engines cast a date to a timestamp in TIMESTAMP AS OF.
func parseAsOf(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--as-of %q: want RFC 3339 (2026-11-21T08:00:00Z) or a date (2026-11-21)", s)
}

// showView is what `table show` prints; its JSON form is the documented contract.
type showView struct {
	Table            string           `json:"table"`
	ID               string           `json:"id"`
	Name             string           `json:"name,omitempty"`
	Version          int64            `json:"version"`
	Timestamp        time.Time        `json:"timestamp"`
	MinReaderVersion int              `json:"minReaderVersion"`
	MinWriterVersion int              `json:"minWriterVersion"`
	ReaderFeatures   []string         `json:"readerFeatures,omitempty"`
	WriterFeatures   []string         `json:"writerFeatures,omitempty"`
	Schema           []showColumn     `json:"schema"`
	PartitionColumns []string         `json:"partitionColumns"`
	Files            []showFile       `json:"files"`
	Txns             map[string]int64 `json:"txns"`
}

type showColumn struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Nullable bool   `json:"nullable"`
}

type showFile struct {
	Path            string             `json:"path"`
	PartitionValues map[string]*string `json:"partitionValues"`
	Size            int64              `json:"size"`
	NumRecords      *int64             `json:"numRecords"`
}

func newShowView(table string, snap *lake.Snapshot) (*showView, error) {
	v := &showView{
		Table:            table,
		ID:               snap.Metadata.ID,
		Name:             snap.Metadata.Name,
		Version:          snap.Version,
		Timestamp:        snap.Timestamp.UTC(),
		MinReaderVersion: snap.Protocol.MinReaderVersion,
		MinWriterVersion: snap.Protocol.MinWriterVersion,
		ReaderFeatures:   snap.Protocol.ReaderFeatures,
		WriterFeatures:   snap.Protocol.WriterFeatures,
		Schema:           []showColumn{},
		PartitionColumns: append([]string{}, snap.PartitionColumns()...),
		Files:            []showFile{},
		Txns:             map[string]int64{},
	}
	schema, err := snap.Schema()
	if err != nil {
		return nil, fmt.Errorf("schema of %s v%d: %w", table, snap.Version, err)
	}
	for _, f := range schema.Fields {
		v.Schema = append(v.Schema, showColumn{Name: f.Name, Type: f.Type, Nullable: f.Nullable})
	}
	for _, add := range snap.Files() {
		f, err := newShowFile(add)
		if err != nil {
			return nil, fmt.Errorf("file %s of %s v%d: %w", add.Path, table, snap.Version, err)
		}
		v.Files = append(v.Files, f)
	}
	// Sorted by the decoded path, which is what the user reads.
	sort.Slice(v.Files, func(i, j int) bool { return v.Files[i].Path < v.Files[j].Path })
	for app, version := range snap.Txns() {
		v.Txns[app] = version
	}
	return v, nil
}

func newShowFile(add lake.Add) (showFile, error) {
	f := showFile{Path: add.DecodedPath(), PartitionValues: map[string]*string{}, Size: add.Size}
	for col, val := range add.PartitionValues {
		if val != nil && *val == "" {
			val = nil // the protocol: an empty string is a null partition value
		}
		f.PartitionValues[col] = val
	}
	if add.Stats != "" {
		// A pointer tells "no numRecords in the stats" apart from zero records.
		var stats struct {
			NumRecords *int64 `json:"numRecords"`
		}
		if err := json.Unmarshal([]byte(add.Stats), &stats); err != nil {
			return showFile{}, fmt.Errorf("parse stats: %w", err)
		}
		f.NumRecords = stats.NumRecords
	}
	return f, nil
}

func (v *showView) writeText(w io.Writer) error {
	var size, records int64
	counted := 0
	for _, f := range v.Files {
		size += f.Size
		if f.NumRecords != nil {
			records += *f.NumRecords
			counted++
		}
	}
	tw := newTabWriter(w)
	fmt.Fprintf(tw, "Table\t%s\n", v.Table)
	if v.Name != "" {
		fmt.Fprintf(tw, "Name\t%s\n", v.Name)
	}
	fmt.Fprintf(tw, "ID\t%s\n", v.ID)
	fmt.Fprintf(tw, "Version\t%d (committed %s)\n", v.Version, v.Timestamp.Format(time.RFC3339))
	fmt.Fprintf(tw, "Protocol\treader %d, writer %d%s\n", v.MinReaderVersion, v.MinWriterVersion, features(v))
	fmt.Fprintf(tw, "Partitioned by\t%s\n", orNone(strings.Join(v.PartitionColumns, ", ")))
	recordText := fmt.Sprintf("%d records", records)
	if counted < len(v.Files) {
		recordText = fmt.Sprintf("%d records in the %d files with stats", records, counted)
	}
	fmt.Fprintf(tw, "Files\t%d live, %s, %s\n", len(v.Files), formatBytes(size), recordText)
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w, "\nSchema")
	tw = newTabWriter(w)
	fmt.Fprintln(tw, "  COLUMN\tTYPE\tNULLABLE")
	for _, c := range v.Schema {
		fmt.Fprintf(tw, "  %s\t%s\t%t\n", c.Name, c.Type, c.Nullable)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	if len(v.Files) > 0 {
		fmt.Fprintln(w, "\nFiles")
		tw = newTabWriter(w)
		fmt.Fprintln(tw, "  PATH\tSIZE\tRECORDS")
		for _, f := range v.Files {
			n := "-"
			if f.NumRecords != nil {
				n = fmt.Sprint(*f.NumRecords)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", f.Path, formatBytes(f.Size), n)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	if len(v.Txns) > 0 {
		fmt.Fprintln(w, "\nTransactions")
		tw = newTabWriter(w)
		fmt.Fprintln(tw, "  APP ID\tVERSION")
		apps := make([]string, 0, len(v.Txns))
		for app := range v.Txns {
			apps = append(apps, app)
		}
		sort.Strings(apps)
		for _, app := range apps {
			fmt.Fprintf(tw, "  %s\t%d\n", app, v.Txns[app])
		}
		return tw.Flush()
	}
	return nil
}

func features(v *showView) string {
	var parts []string
	if len(v.ReaderFeatures) > 0 {
		parts = append(parts, "reader features "+strings.Join(v.ReaderFeatures, ", "))
	}
	if len(v.WriterFeatures) > 0 {
		parts = append(parts, "writer features "+strings.Join(v.WriterFeatures, ", "))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, "; ") + ")"
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
