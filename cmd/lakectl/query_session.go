package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/silver"
)

// lakeTables are the tables a query may name: every table of the pipeline, by
// schema.name. A table is read from the lake only when a statement names it, so one
// broken table fails only the queries that use it, and an S3 lake downloads only the
// files of the tables a query reads.
type lakeTables struct {
	env   *pipelineEnv
	at    snapshotSelector
	roots map[engine.TableName]string
	order []engine.TableName
	snaps map[engine.TableName]*lake.Snapshot // loaded once: every statement sees the same version
}

func newLakeTables(env *pipelineEnv, at snapshotSelector) *lakeTables {
	c := &lakeTables{env: env, at: at, roots: map[engine.TableName]string{}, snaps: map[engine.TableName]*lake.Snapshot{}}
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

// snapshot loads the table's snapshot as --as-of selects; lake.ErrNoTable when nothing
// has written it yet.
func (c *lakeTables) snapshot(ctx context.Context, n engine.TableName) (*lake.Snapshot, error) {
	if snap, ok := c.snaps[n]; ok {
		return snap, nil
	}
	t := lake.NewTable(c.env.store, c.roots[n])
	var snap *lake.Snapshot
	var err error
	switch {
	case c.at.version != nil:
		snap, err = t.At(ctx, *c.at.version)
	case c.at.asOf != nil:
		snap, err = t.AsOf(ctx, *c.at.asOf)
	default:
		snap, err = t.Latest(ctx)
	}
	if err != nil {
		return nil, err
	}
	c.snaps[n] = snap
	return snap, nil
}

// register registers table n in sess. A table not written yet is left out (DuckDB
// then says it does not exist, and the catalog hint lists the tables there are).
func (c *lakeTables) register(ctx context.Context, sess *engine.Session, n engine.TableName) error {
	snap, err := c.snapshot(ctx, n)
	switch {
	case errors.Is(err, lake.ErrNoTable):
		return nil
	case errors.Is(err, lake.ErrVersionNotFound):
		return hinted(fmt.Errorf("%s: %w", n, err), "the table has no such version: lakectl table history "+c.url(n)+" lists its versions and their times")
	case err != nil:
		return withTableHint(fmt.Errorf("%s: %w", n, err))
	}
	err = sess.RegisterTable(ctx, n.Schema, n.Name, snap, engine.TableFiles(lake.NewTable(c.env.store, c.roots[n]), c.env.cache))
	if missing := (*engine.MissingFileError)(nil); errors.As(err, &missing) {
		return withCheckHint(fmt.Errorf("%s: %w", n, missing), c.url(n))
	}
	if err != nil {
		return withCheckHint(fmt.Errorf("%s: %w", n, err), c.url(n))
	}
	return nil
}

// withCheckHint points at the command that checks a table's files against its log.
func withCheckHint(err error, url string) error {
	return hinted(err, "run lakectl table check "+url)
}

// url is the table's URL, as lakectl table commands take it.
func (c *lakeTables) url(n engine.TableName) string {
	base := c.env.p.Store.OpenURL()
	u, err := url.Parse(base)
	switch {
	case err != nil || u.Scheme == "":
		return filepath.Join(base, filepath.FromSlash(c.roots[n]))
	case u.Scheme == "file":
		return filepath.Join(filepath.FromSlash(u.Path), filepath.FromSlash(c.roots[n]))
	}
	u.Path = path.Join(u.Path, c.roots[n])
	return u.String()
}

// list names the tables that exist, with their versions: for .tables and for the
// hint under an unknown table. Reading every table's log is fine here; a table whose
// log cannot be read is listed with the reason.
func (c *lakeTables) list(ctx context.Context) []string {
	var out []string
	for _, n := range c.order {
		snap, err := c.snapshot(ctx, n)
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
// tables the SQL names. Every statement goes through run: the argument, stdin and
// each statement of the prompt alike.
type querier struct {
	tables *lakeTables
	opts   engine.SealOptions
	sess   *engine.Session
	// registered are the tables in sess; a statement that names another one gets a
	// new session, since a sealed one takes no registration.
	registered []engine.TableName
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
	if err := q.prepare(ctx, uq.Tables); err != nil {
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

// prepare leaves q.sess sealed with every table of names that the lake has.
func (q *querier) prepare(ctx context.Context, names []engine.TableName) error {
	var missing []engine.TableName
	for _, n := range names {
		if _, ours := q.tables.roots[n]; ours && !slices.Contains(q.registered, n) {
			missing = append(missing, n)
		}
	}
	if len(missing) == 0 && q.registered != nil {
		return nil // sealed, with all it needs
	}
	if q.registered != nil {
		// Sealed with other tables: start over with all of them.
		if err := q.sess.Close(); err != nil {
			return err
		}
		q.sess = nil
		sess, err := q.tables.env.session(ctx)
		if err != nil {
			return err
		}
		q.sess = sess
		missing = append(missing, q.registered...)
	}
	q.registered = []engine.TableName{}
	for _, n := range missing {
		if err := q.tables.register(ctx, q.sess, n); err != nil {
			// The session holds part of the tables: the next statement starts afresh.
			q.sess.Close()
			q.sess, q.registered = nil, nil
			return err
		}
		q.registered = append(q.registered, n)
	}
	return q.sess.Seal(ctx, q.opts)
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
