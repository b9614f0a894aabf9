package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	_ "github.com/duckdb/duckdb-go/v2" // the "duckdb" driver, to ask the linked library its version
	"github.com/spf13/cobra"
)

// versionInfo is what `lakectl version` prints; its JSON form is for scripts.
type versionInfo struct {
	Version  string `json:"version"`
	Commit   string `json:"commit,omitempty"`
	Modified bool   `json:"modified,omitempty"`
	Go       string `json:"go"`
	DuckDB   string `json:"duckdb"`
	DuckDBGo string `json:"duckdb_go"`
}

func newVersionCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print lakectl's version, and the Go and DuckDB versions it was built with",
		Long: `Print the version of lakectl (the module version, or the commit it was built from),
the Go toolchain, and the DuckDB library linked in with its duckdb-go driver: the
DuckDB version decides which SQL lakectl query accepts and which files it reads.
lakectl --version prints the same text.`,
		Example: `  lakectl version
  lakectl version --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := readVersion(cmd.Context())
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), v)
			}
			return v.writeText(cmd.OutOrStdout())
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object instead of text")
	return cmd
}

// readVersion reads the build information that the Go toolchain stamps into the binary
// and asks the linked DuckDB library for its own version.
func readVersion(ctx context.Context) versionInfo {
	v := versionInfo{Version: "unknown", Go: runtime.Version(), DuckDB: "unknown", DuckDBGo: "unknown"}
	if bi, ok := debug.ReadBuildInfo(); ok {
		v.Version = bi.Main.Version
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Commit = s.Value
			case "vcs.modified":
				v.Modified = s.Value == "true"
			}
		}
		for _, dep := range bi.Deps {
			if dep.Path == "github.com/duckdb/duckdb-go/v2" {
				v.DuckDBGo = dep.Version
			}
		}
	}
	if d, err := duckdbVersion(ctx); err == nil {
		v.DuckDB = d
	}
	return v
}

// duckdbVersion opens an in-memory DuckDB and asks it.
func duckdbVersion(ctx context.Context) (string, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return "", err
	}
	defer db.Close()
	var version string
	if err := db.QueryRowContext(ctx, "SELECT library_version FROM pragma_version()").Scan(&version); err != nil {
		return "", fmt.Errorf("ask duckdb its version: %w", err)
	}
	return version, nil
}

func (v versionInfo) writeText(w io.Writer) error {
	tw := newTabWriter(w)
	fmt.Fprintf(tw, "lakectl\t%s\n", v.Version)
	if v.Commit != "" {
		modified := ""
		if v.Modified {
			modified = " (modified)"
		}
		fmt.Fprintf(tw, "commit\t%s%s\n", v.Commit, modified)
	}
	fmt.Fprintf(tw, "go\t%s\n", v.Go)
	fmt.Fprintf(tw, "duckdb\t%s (duckdb-go %s)\n", v.DuckDB, v.DuckDBGo)
	return tw.Flush()
}

// versionText is `lakectl --version`: the same text as `lakectl version`.
func versionText(ctx context.Context) string {
	var b strings.Builder
	readVersion(ctx).writeText(&b)
	return b.String()
}
