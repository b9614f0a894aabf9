package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/cache"
	"github.com/lakectl/lakectl/silver"
)

// lakeTables are the tables a query may name: every table of the pipeline by
// schema.name (of a lake without a pipeline, every table under its layers), and the
// tables given by --table by their bare name. A table is read from its store only when
// a statement names it, so one broken table fails only the queries that use it, and an
// S3 lake downloads only the files of the tables a query reads.
type lakeTables struct {
	env *pipelineEnv // its store is nil with --table tables alone
	at  snapshotSelector
	// roots are the pipeline's tables; with lakeOnly, any layer.name of the lake is
	// one too (found by name, not by listing the lake).
	roots    map[engine.TableName]string
	order    []engine.TableName
	lakeOnly bool
	ext      map[engine.TableName]tableSource    // --table
	snaps    map[engine.TableName]*lake.Snapshot // loaded once: every statement sees the same version
}

// tableSource is where a table's log and files are.
type tableSource struct {
	table *lake.Table
	cache *cache.Cache
	url   string // the table's URL, as lakectl table commands take it
}

// layers are the schemas of a lake's tables, each the top directory of its tables.
var layers = []string{"bronze", "silver", "quarantine", "ref", "gold", "views"}

func newLakeTables(env *pipelineEnv, at snapshotSelector) *lakeTables {
	c := &lakeTables{env: env, at: at, roots: map[engine.TableName]string{},
		ext: map[engine.TableName]tableSource{}, snaps: map[engine.TableName]*lake.Snapshot{}}
	if env.store == nil {
		return c
	}
	if env.lakeOnly {
		c.lakeOnly = true
		return c
	}
	add := func(schema, name, root string) {
		n := engine.TableName{Schema: schema, Name: name}
		c.roots[n] = root
		c.order = append(c.order, n)
	}
	for _, s := range env.p.Streams {
		add("bronze", s.Name, layout.TableRoot(s.Name))
	}
	for _, t := range env.p.Silver {
		add("silver", t.Name, silver.Root(t.Name))
		add("quarantine", t.Name, silver.QuarantineRoot(t.Name))
	}
	for _, r := range env.p.Reference {
		add("ref", r.Name, silver.RefRoot(r.Name))
	}
	for _, layer := range []struct{ schema, dir string }{{"gold", "models"}, {"views", "views"}} {
		files, _ := filepath.Glob(filepath.Join(env.p.Dir, layer.dir, "*.sql"))
		for _, f := range files {
			name := strings.TrimSuffix(filepath.Base(f), ".sql")
			add(layer.schema, name, layer.schema+"/"+name)
		}
	}
	return c
}

// addExternal makes the Delta table of src queryable as name (DuckDB's main.name).
func (c *lakeTables) addExternal(name string, src tableSource) {
	c.ext[engine.TableName{Name: name}] = src
	c.order = append(c.order, engine.TableName{Name: name})
}

// source finds table n; false when no table by that name can be queried.
func (c *lakeTables) source(n engine.TableName) (tableSource, bool) {
	if src, ok := c.ext[n]; ok {
		return src, true
	}
	if c.env.store == nil {
		return tableSource{}, false
	}
	root, ok := c.roots[n]
	if !ok && c.lakeOnly && slices.Contains(layers, n.Schema) && tableNameRe.MatchString(n.Name) {
		root, ok = n.Schema+"/"+n.Name, true
	}
	if !ok {
		return tableSource{}, false
	}
	return tableSource{table: lake.NewTable(c.env.store, root), cache: c.env.cache, url: c.url(root)}, true
}

// tableNameRe are the names a table of a layer can have: also what keeps a name that
// a query writes from reaching outside its layer's directory.
var tableNameRe = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// snapshot loads the table's snapshot as --as-of selects; lake.ErrNoTable when nothing
// has written it yet.
func (c *lakeTables) snapshot(ctx context.Context, n engine.TableName, src tableSource) (*lake.Snapshot, error) {
	if snap, ok := c.snaps[n]; ok {
		return snap, nil
	}
	var snap *lake.Snapshot
	var err error
	switch {
	case c.at.version != nil:
		snap, err = src.table.At(ctx, *c.at.version)
	case c.at.asOf != nil:
		snap, err = src.table.AsOf(ctx, *c.at.asOf)
	default:
		snap, err = src.table.Latest(ctx)
	}
	if err != nil {
		return nil, err
	}
	c.snaps[n] = snap
	return snap, nil
}

// plan loads table n and prunes its files for uq; nil when nothing has written the
// table yet (DuckDB then says it does not exist, and the catalog hint lists the tables
// there are).
func (c *lakeTables) plan(ctx context.Context, sess *engine.Session, uq *engine.UserSQL, n engine.TableName) (*tablePlan, error) {
	src, _ := c.source(n)
	snap, err := c.snapshot(ctx, n, src)
	switch {
	case errors.Is(err, lake.ErrNoTable):
		return nil, nil
	case errors.Is(err, lake.ErrVersionNotFound):
		return nil, hinted(fmt.Errorf("%s: %w", n, err), "the table has no such version: lakectl table history "+src.url+" lists its versions and their times")
	case err != nil:
		return nil, withTableHint(fmt.Errorf("%s: %w", n, err))
	}
	adds, rep, err := sess.Prune(ctx, uq, n, snap, snap.Files())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", n, err)
	}
	return &tablePlan{src: src, snap: snap, adds: adds, report: rep}, nil
}

// tablePlan is what a statement reads of a table: the files that pruning kept.
type tablePlan struct {
	src    tableSource
	snap   *lake.Snapshot
	adds   []lake.Add
	report engine.PruneReport
}

// covers reports whether p's files include every file of o.
func (p *tablePlan) covers(o *tablePlan) bool {
	have := map[string]bool{}
	for _, a := range p.adds {
		have[a.Path] = true
	}
	for _, a := range o.adds {
		if !have[a.Path] {
			return false
		}
	}
	return true
}

// merge adds the files of o that p lacks, in the log's order.
func (p *tablePlan) merge(o *tablePlan) {
	if p.covers(o) {
		return
	}
	have := map[string]bool{}
	for _, a := range p.adds {
		have[a.Path] = true
	}
	for _, a := range o.adds {
		have[a.Path] = true
	}
	p.adds = p.adds[:0:0]
	for _, a := range p.snap.Files() {
		if have[a.Path] {
			p.adds = append(p.adds, a)
		}
	}
}

// register registers the files of plan as table n in sess.
func register(ctx context.Context, sess *engine.Session, n engine.TableName, plan *tablePlan) error {
	schema := n.Schema
	if schema == "" {
		schema = "main"
	}
	err := sess.RegisterFiles(ctx, schema, n.Name, plan.snap, plan.adds, engine.TableFiles(plan.src.table, plan.src.cache))
	if missing := (*engine.MissingFileError)(nil); errors.As(err, &missing) {
		return withCheckHint(fmt.Errorf("%s: %w", n, missing), plan.src.url)
	}
	if err != nil {
		return withCheckHint(fmt.Errorf("%s: %w", n, err), plan.src.url)
	}
	return nil
}

// withCheckHint points at the command that checks a table's files against its log.
func withCheckHint(err error, url string) error {
	return hinted(err, "run lakectl table check "+url)
}

// url is the URL of the lake's table at root, as lakectl table commands take it.
func (c *lakeTables) url(root string) string {
	base := c.env.p.Store.OpenURL()
	u, err := url.Parse(base)
	switch {
	case err != nil || u.Scheme == "":
		return filepath.Join(base, filepath.FromSlash(root))
	case u.Scheme == "file":
		return filepath.Join(filepath.FromSlash(u.Path), filepath.FromSlash(root))
	}
	u.Path = path.Join(u.Path, root)
	return u.String()
}

// list names the tables that exist, with their versions: for .tables and for the
// hint under an unknown table. Reading every table's log is fine here; a table whose
// log cannot be read is listed with the reason.
func (c *lakeTables) list(ctx context.Context) []string {
	var out []string
	for _, n := range c.names(ctx) {
		src, _ := c.source(n)
		snap, err := c.snapshot(ctx, n, src)
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

// names are the tables to list: the pipeline's and --table's, or for a lake alone
// the tables found under its layers.
func (c *lakeTables) names(ctx context.Context) []engine.TableName {
	if !c.lakeOnly {
		return c.order
	}
	var out []engine.TableName
	for _, layer := range layers {
		objs, err := c.env.store.List(ctx, layer+"/", "")
		if err != nil {
			continue // list says nothing of a layer it cannot read; a query of it will
		}
		for _, o := range objs {
			name, rest, _ := strings.Cut(strings.TrimPrefix(o.Key, layer+"/"), "/")
			n := engine.TableName{Schema: layer, Name: name}
			if strings.HasPrefix(rest, "_delta_log/") && tableNameRe.MatchString(name) && !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return append(out, c.order...)
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
	registered map[engine.TableName]*tablePlan
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
	plans := map[engine.TableName]*tablePlan{}
	var names []engine.TableName
	for _, n := range uq.Tables {
		if _, ours := q.tables.source(n); !ours {
			continue
		}
		plan, err := q.tables.plan(ctx, q.sess, uq, n)
		if err != nil {
			return err
		}
		if plan != nil {
			plans[n] = plan
			names = append(names, n)
		}
	}
	covered := q.registered != nil
	for _, n := range names {
		if have, ok := q.registered[n]; !ok || !have.covers(plans[n]) {
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
				plan.merge(have)
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
	q.registered = map[engine.TableName]*tablePlan{}
	downloads := map[engine.TableName]cache.Stats{}
	for _, n := range names {
		plan := plans[n]
		var before cache.Stats
		if plan.src.cache != nil {
			before = plan.src.cache.Stats()
		}
		if err := register(ctx, q.sess, n, plan); err != nil {
			// The session holds part of the tables: the next statement starts afresh.
			q.sess.Close()
			q.sess, q.registered = nil, nil
			return err
		}
		if plan.src.cache != nil {
			after := plan.src.cache.Stats()
			downloads[n] = cache.Stats{Downloads: after.Downloads - before.Downloads, DownloadedBytes: after.DownloadedBytes - before.DownloadedBytes}
		}
		q.registered[n] = plan
	}
	q.explainPlans(stmt, plans, downloads)
	return q.sess.Seal(ctx, q.opts)
}

// explainPlans writes, with --explain, what the statement reads of each table.
func (q *querier) explainPlans(names []engine.TableName, plans map[engine.TableName]*tablePlan, downloads map[engine.TableName]cache.Stats) {
	if q.explain == nil {
		return
	}
	slices.SortFunc(names, func(a, b engine.TableName) int { return strings.Compare(a.String(), b.String()) })
	for _, n := range names {
		r := plans[n].report
		line := fmt.Sprintf("%s v%d: reads %d of %d files (%s of %s)", n, plans[n].snap.Version,
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
