package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/lakectl/lakectl/catalog"
	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/cache"
)

// lakeTables are the tables a query may name (package catalog): every table of the
// pipeline by schema.name (of a lake without a pipeline, every table under its
// layers), and the tables given by --table by their bare name.
type lakeTables struct {
	*catalog.Catalog
	env *pipelineEnv // its store is nil with --table tables alone
}

func newLakeTables(env *pipelineEnv, at snapshotSelector) *lakeTables {
	cfg := catalog.Config{Store: env.store, Cache: env.cache, URL: env.p.Store.OpenURL(),
		At: catalog.At{Version: at.version, Time: at.asOf}}
	if env.lakeOnly {
		return &lakeTables{Catalog: catalog.ForLake(cfg), env: env}
	}
	return &lakeTables{Catalog: catalog.ForPipeline(env.p, cfg), env: env}
}

// plan is catalog.Plan with a hint where the user can act.
func (c *lakeTables) plan(ctx context.Context, sess *engine.Session, uq *engine.UserSQL, n engine.TableName) (*catalog.Plan, error) {
	plan, err := c.Plan(ctx, sess, uq, n)
	switch {
	case errors.Is(err, lake.ErrVersionNotFound):
		src, _ := c.Source(n)
		return nil, hinted(err, "the table has no such version: lakectl table history "+src.URL+" lists its versions and their times")
	case err != nil:
		return nil, withTableHint(err)
	}
	return plan, nil
}

// register is catalog.Register, pointing at the command that checks a table's files
// against its log when it fails.
func register(ctx context.Context, sess *engine.Session, n engine.TableName, plan *catalog.Plan) error {
	if err := catalog.Register(ctx, sess, n, plan); err != nil {
		return withCheckHint(err, plan.Source.URL)
	}
	return nil
}

// withCheckHint points at the command that checks a table's files against its log.
func withCheckHint(err error, url string) error {
	return hinted(err, "run lakectl table check "+url)
}

// list names the tables that exist, with their versions: for .tables and for the
// hint under an unknown table. Reading every table's log is fine here; a table whose
// log cannot be read is listed with the reason.
func (c *lakeTables) list(ctx context.Context) []string {
	var out []string
	for _, n := range c.Names(ctx) {
		snap, err := c.Snapshot(ctx, n)
		switch {
		case errors.Is(err, lake.ErrNoTable), errors.Is(err, lake.ErrVersionNotFound):
		case err != nil:
			out = append(out, fmt.Sprintf("%s (unreadable: %v)", n, err))
		default:
			out = append(out, fmt.Sprintf("%s (v%d)", n, snap.Version))
		}
	}
	return out
}

// querier runs user SQL in a sealed session (engine.Session.Seal) that holds only the
// tables the SQL names, each with only the files that its WHERE comparisons can need
// (engine.Session.Prune). Every statement goes through run: the argument, stdin and
// each statement of the prompt alike.
type querier struct {
	tables *lakeTables
	opts   engine.SealOptions
	// explain, when set, gets a line per table a statement reads: files and bytes
	// kept, pruned and downloaded.
	explain io.Writer
	sess    *engine.Session
	// registered are the tables in sess and their files; a statement that needs
	// another table or file gets a new session, since a sealed one takes no
	// registration.
	registered map[engine.TableName]*catalog.Plan
}

func (q *querier) Close() error {
	if q.sess == nil {
		return nil
	}
	return q.sess.Close()
}

// run checks sql, makes sure a sealed session holds the tables it names, and prints
// its result.
func (q *querier) run(ctx context.Context, sql, format string, w io.Writer) error {
	if q.sess == nil {
		sess, err := q.tables.env.session(ctx)
		if err != nil {
			return err
		}
		q.sess = sess
	}
	uq, err := q.sess.ParseUserSQL(ctx, sql)
	var refused *engine.RefusedError
	if errors.As(err, &refused) {
		return hinted(fmt.Errorf("query: %w", err), "lakectl query only reads; to save a result, print it with --format csv or json and redirect the output")
	}
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	if err := q.prepare(ctx, uq); err != nil {
		return err
	}
	rows, err := q.sess.QueryUser(ctx, uq)
	switch {
	case err != nil && strings.Contains(err.Error(), "Permission Error") && !q.opts.AllowLocalFiles:
		return hinted(fmt.Errorf("query: %w", err), "a query reads the tables of the lake only; --allow-local-files lets it read local files too")
	case err != nil:
		return q.withCatalogHint(ctx, fmt.Errorf("query: %w", err))
	}
	return printRows(rows, format, w)
}

// prepare leaves q.sess sealed with every table that uq names and the lake has, each
// with at least the files that uq's scans of it can need.
func (q *querier) prepare(ctx context.Context, uq *engine.UserSQL) error {
	plans, names, err := q.plan(ctx, uq)
	if err != nil {
		return err
	}
	covered := q.registered != nil
	for _, n := range names {
		if have, ok := q.registered[n]; !ok || !have.Covers(plans[n]) {
			covered = false
		}
	}
	stmt := slices.Clone(names) // the tables this statement reads, for --explain
	if covered {
		q.explainPlans(stmt, plans, nil)
		return nil // sealed, with all it needs
	}
	if q.registered != nil {
		// Sealed with other tables or files: start over with all of them.
		for n, have := range q.registered {
			if plan, ok := plans[n]; ok {
				plan.Merge(have)
			} else {
				plans[n] = have
				names = append(names, n)
			}
		}
		if err := q.sess.Close(); err != nil {
			return err
		}
		q.sess = nil
		sess, err := q.tables.env.session(ctx)
		if err != nil {
			return err
		}
		q.sess = sess
	}
	q.registered = map[engine.TableName]*catalog.Plan{}
	var downloads map[engine.TableName]cache.Stats
	if q.explain != nil {
		downloads = toDownload(plans, names)
	}
	all := make([]*catalog.Plan, len(names))
	for i, n := range names {
		all[i] = plans[n]
	}
	release := catalog.Fetch(ctx, all)
	defer release()
	for _, n := range names {
		if err := register(ctx, q.sess, n, plans[n]); err != nil {
			// The session holds part of the tables: the next statement starts afresh.
			q.sess.Close()
			q.sess, q.registered = nil, nil
			return err
		}
		q.registered[n] = plans[n]
	}
	q.explainPlans(stmt, plans, downloads)
	return q.sess.Seal(ctx, q.opts)
}

// plan loads and prunes, at once (catalog.PlanAll), the tables of uq that the lake has. It returns the plans by table, and the tables that
// something has written, in uq's order.
func (q *querier) plan(ctx context.Context, uq *engine.UserSQL) (map[engine.TableName]*catalog.Plan, []engine.TableName, error) {
	var ours []engine.TableName
	for _, n := range uq.Tables {
		if _, ok := q.tables.Source(n); ok {
			ours = append(ours, n)
		}
	}
	found, err := catalog.PlanAll(ours, func(n engine.TableName) (*catalog.Plan, error) {
		return q.tables.plan(ctx, q.sess, uq, n)
	})
	if err != nil {
		return nil, nil, err
	}
	plans := map[engine.TableName]*catalog.Plan{}
	var names []engine.TableName
	for i, n := range ours {
		if found[i] != nil {
			plans[n] = found[i]
			names = append(names, n)
		}
	}
	return plans, names, nil
}

// toDownload counts, by table, the files of plans that their caches do not hold yet
// (a statement downloads them) and their bytes.
func toDownload(plans map[engine.TableName]*catalog.Plan, names []engine.TableName) map[engine.TableName]cache.Stats {
	out := map[engine.TableName]cache.Stats{}
	for _, n := range names {
		p := plans[n]
		var st cache.Stats
		for _, a := range p.Adds {
			if p.Source.Cache != nil && !a.IsAbsolute() && !p.Source.Cache.Holds(p.Source.Table.Key(a.DecodedPath())) {
				st.Downloads++
				st.DownloadedBytes += a.Size
			}
		}
		out[n] = st
	}
	return out
}

// explainPlans writes, with --explain, what the statement reads of each table.
func (q *querier) explainPlans(names []engine.TableName, plans map[engine.TableName]*catalog.Plan, downloads map[engine.TableName]cache.Stats) {
	if q.explain == nil {
		return
	}
	slices.SortFunc(names, func(a, b engine.TableName) int { return strings.Compare(a.String(), b.String()) })
	for _, n := range names {
		r := plans[n].Report
		line := fmt.Sprintf("%s v%d: reads %d of %d files (%s of %s)", n, plans[n].Snap.Version,
			r.KeptFiles, r.Files, formatBytes(r.KeptBytes), formatBytes(r.Bytes))
		if len(r.Columns) > 0 {
			line += fmt.Sprintf(", pruned %d files (%s) on %s", r.Files-r.KeptFiles, formatBytes(r.Bytes-r.KeptBytes), strings.Join(r.Columns, ", "))
		}
		if downloads != nil {
			line += fmt.Sprintf("; %d files downloaded (%s)", downloads[n].Downloads, formatBytes(downloads[n].DownloadedBytes))
		} else {
			line += "; all already registered"
		}
		fmt.Fprintln(q.explain, "explain: "+line)
	}
}

// withCatalogHint lists the tables there are under an error about a table DuckDB
// does not know: the usual cause is a name that is not in the pipeline, or a table
// that nothing has written yet.
func (q *querier) withCatalogHint(ctx context.Context, err error) error {
	if !strings.Contains(err.Error(), "Catalog Error") {
		return err
	}
	tables := q.tables.list(ctx)
	if len(tables) == 0 {
		return hinted(err, "no table of the pipeline has been written yet")
	}
	return hinted(err, "the tables are "+strings.Join(tables, ", "))
}
