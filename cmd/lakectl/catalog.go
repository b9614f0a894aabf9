package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/engine/sqlfrag"
	"github.com/lakectl/lakectl/lake"
)

func newCatalogCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "catalog",
		Short: "Hand the lake's tables to DuckDB users who have no lakectl",
	}
	cmd.AddCommand(newCatalogExportCmd())
	return cmd
}

func newCatalogExportCmd() *cobra.Command {
	var pf pipelineFlags
	cmd := &cobra.Command{
		Use:   "export FILE.duckdb",
		Short: "Write a DuckDB database whose views read every table's current files",
		Long: `Write a DuckDB database holding one view per table of the pipeline that has data
(bronze.<stream>, silver.<table>, quarantine.<table>, ref.<name>, gold.<model>), each
over the data files of the table's current snapshot by absolute path, with the
partition values from the Delta log. Open it in the DuckDB CLI or a notebook; no
lakectl needed. The views show the tables as they are now: export again after new
commits (and before a vacuum removes the files they name). FILE is replaced whole.

Only a local lake can be exported for now: views over s3:// URLs would need DuckDB's
httpfs extension at export time, which lakectl does not carry.`,
		Example: `  lakectl catalog export lake.duckdb
  duckdb lake.duckdb -c "SELECT event_type, sum(events) FROM gold.daily_metrics GROUP BY ALL"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			env, err := pf.open(ctx, true)
			if err != nil {
				return err
			}
			root, err := localLakeRoot(env.p.Store.OpenURL())
			if err != nil {
				return err
			}
			n, err := exportCatalog(ctx, env, root, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %d views\n", args[0], n)
			return nil
		},
	}
	pf.register(cmd)
	return cmd
}

// localLakeRoot is the directory of a local lake.
func localLakeRoot(storeURL string) (string, error) {
	u, err := url.Parse(storeURL)
	switch {
	case err != nil || u.Scheme == "":
		return filepath.Abs(storeURL)
	case u.Scheme == "file":
		return filepath.Abs(filepath.FromSlash(u.Path))
	}
	return "", hinted(fmt.Errorf("catalog export of %s: only a local lake can be exported", storeURL),
		"views over s3:// files need DuckDB's httpfs extension, which lakectl does not carry; use lakectl query, or copy the lake to a local directory")
}

// exportCatalog writes the views into a new database at file, replacing it at the end
// in one rename, and returns how many it wrote.
func exportCatalog(ctx context.Context, env *pipelineEnv, root, file string) (int, error) {
	sess, err := env.session(ctx)
	if err != nil {
		return 0, err
	}
	defer sess.Close()
	tmp := file + ".tmp"
	os.Remove(tmp)
	defer os.Remove(tmp)
	if _, err := sess.ExecContext(ctx, "ATTACH "+sqlfrag.Str(tmp).String()+" AS catalog"); err != nil {
		return 0, fmt.Errorf("catalog export: %w", err)
	}
	tables := newLakeTables(env, snapshotSelector{})
	n := 0
	for _, name := range tables.Names(ctx) {
		src, _ := tables.Source(name)
		snap, err := tables.Snapshot(ctx, name)
		if errors.Is(err, lake.ErrNoTable) {
			continue
		}
		if err != nil {
			return n, fmt.Errorf("catalog export: %s: %w", name, err)
		}
		t := src.Table
		var paths []string
		for _, a := range snap.Files() {
			paths = append(paths, filepath.Join(root, filepath.FromSlash(t.Key(a.DecodedPath()))))
		}
		view, err := engine.ViewSQL(snap, paths)
		if err != nil {
			return n, fmt.Errorf("catalog export: %s: %w", name, err)
		}
		for _, st := range []string{
			"CREATE SCHEMA IF NOT EXISTS catalog." + sqlfrag.Ident(name.Schema).String(),
			"CREATE VIEW catalog." + sqlfrag.Qualified(name.Schema, name.Name).String() + " AS " + view,
		} {
			if _, err := sess.ExecContext(ctx, st); err != nil {
				return n, withCheckHint(fmt.Errorf("catalog export: %s v%d: %w", name, snap.Version, err), src.URL)
			}
		}
		n++
	}
	if _, err := sess.ExecContext(ctx, "DETACH catalog"); err != nil {
		return n, fmt.Errorf("catalog export: %w", err)
	}
	if err := os.Rename(tmp, file); err != nil {
		return n, fmt.Errorf("catalog export: %w", err)
	}
	return n, nil
}
