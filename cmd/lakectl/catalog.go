package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

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
over the data files of the table's current snapshot, with the partition values from
the Delta log: by absolute path for a local lake, by s3://bucket/key URL for an S3
lake. Open it in the DuckDB CLI or a notebook; no lakectl needed. The views show the
tables as they are now: export again after new commits (and before a vacuum removes
the files they name). FILE is replaced whole.

The views of an S3 lake need DuckDB's httpfs extension and S3 credentials on the
reading side (LOAD httpfs; CREATE SECRET (TYPE s3, ...), with ENDPOINT and
URL_STYLE 'path' for MinIO). lakectl writes them without reading the files: each
view reads its files from coalesce(getvariable('lakectl_export_files'), [urls]),
a variable that only the export sets, so that DuckDB can create the view here.`,
		Example: `  lakectl catalog export lake.duckdb
  duckdb lake.duckdb -c "SELECT event_type, sum(events) FROM gold.daily_metrics GROUP BY ALL"
  lakectl catalog export --lake s3://lake/prod lake.duckdb
  duckdb lake.duckdb -c "LOAD httpfs; CREATE SECRET (TYPE s3, PROVIDER credential_chain); FROM gold.daily_metrics LIMIT 5"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			env, err := pf.open(ctx, true)
			if err != nil {
				return err
			}
			loc, err := fileLocator(env.p.Store.OpenURL())
			if err != nil {
				return err
			}
			n, err := exportCatalog(ctx, env, loc, args[0])
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

// locator says where the analyst's DuckDB finds the object at a key of the lake.
type locator struct {
	base string // a directory, or s3://bucket/prefix
	s3   bool
}

func (l locator) file(key string) string {
	if l.s3 {
		return l.base + "/" + key
	}
	return filepath.Join(l.base, filepath.FromSlash(key))
}

// fileLocator locates the files of the lake at storeURL: absolute paths for a local
// lake, s3:// URLs (without lakectl's endpoint and region parameters, which the
// analyst's S3 secret gives) for an S3 lake.
func fileLocator(storeURL string) (locator, error) {
	u, err := url.Parse(storeURL)
	switch {
	case err != nil || u.Scheme == "":
		dir, err := filepath.Abs(storeURL)
		return locator{base: dir}, err
	case u.Scheme == "file":
		dir, err := filepath.Abs(filepath.FromSlash(u.Path))
		return locator{base: dir}, err
	case u.Scheme == "s3":
		return locator{base: strings.TrimSuffix("s3://"+u.Host+"/"+strings.Trim(u.Path, "/"), "/"), s3: true}, nil
	}
	return locator{}, fmt.Errorf("catalog export of %s: a lake at a %s URL cannot be exported", storeURL, u.Scheme)
}

// exportCatalog writes the views into a new database at file, replacing it at the end
// in one rename, and returns how many it wrote.
func exportCatalog(ctx context.Context, env *pipelineEnv, loc locator, file string) (int, error) {
	sess, err := env.session(ctx)
	if err != nil {
		return 0, err
	}
	defer sess.Close()
	tmp := file + ".tmp"
	os.Remove(tmp)
	defer os.Remove(tmp)
	stubs, err := os.MkdirTemp("", "lakectl-export-")
	if err != nil {
		return 0, fmt.Errorf("catalog export: %w", err)
	}
	defer os.RemoveAll(stubs)
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
		var paths []string
		for _, a := range snap.Files() {
			paths = append(paths, loc.file(src.Table.Key(a.DecodedPath())))
		}
		stmts, err := viewStatements(ctx, sess, name, snap, paths, loc.s3, filepath.Join(stubs, fmt.Sprintf("%d.parquet", n)))
		if err != nil {
			return n, fmt.Errorf("catalog export: %s: %w", name, err)
		}
		for _, st := range stmts {
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

// viewStatements create the view of table n over paths in the attached catalog. Over
// files this DuckDB cannot open (deferred: s3:// URLs), the view is created while
// engine.ExportFilesVariable names a local stub with the files' columns and no rows,
// written to stub (engine.DeferredView).
func viewStatements(ctx context.Context, sess *engine.Session, n engine.TableName, snap *lake.Snapshot, paths []string, deferred bool, stub string) ([]string, error) {
	create := func(view string) []string {
		return []string{
			"CREATE SCHEMA IF NOT EXISTS catalog." + sqlfrag.Ident(n.Schema).String(),
			"CREATE VIEW catalog." + sqlfrag.Qualified(n.Schema, n.Name).String() + " AS " + view,
		}
	}
	if !deferred {
		view, err := engine.ViewSQL(snap, paths)
		return create(view), err
	}
	dv, err := engine.DeferredViewSQL(snap, paths)
	if err != nil || dv.Stub.IsZero() {
		return create(dv.SQL), err
	}
	if _, err := sess.ExecContext(ctx, sqlfrag.Fmt("COPY (%s) TO %s (FORMAT parquet)", dv.Stub, sqlfrag.Str(stub)).String()); err != nil {
		return nil, fmt.Errorf("write the stub that binds the view: %w", err)
	}
	variable := sqlfrag.Ident(engine.ExportFilesVariable)
	stmts := []string{sqlfrag.Fmt("SET VARIABLE %s = %s", variable, sqlfrag.StrList([]string{stub})).String()}
	stmts = append(stmts, create(dv.SQL)...)
	return append(stmts, sqlfrag.Fmt("RESET VARIABLE %s", variable).String()), nil
}
