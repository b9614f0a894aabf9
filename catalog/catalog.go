package catalog

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/cache"
	"github.com/lakectl/lakectl/pipeline"
	"github.com/lakectl/lakectl/silver"
)

// Config sets up a Catalog.
type Config struct {
	// Store is the lake. Nil for a catalog of external tables alone (AddExternal).
	Store lake.Store
	// Cache gives DuckDB local copies of the lake's data files. Default: a cache
	// without a directory of its own.
	Cache *cache.Cache
	// URL is the lake's URL (a directory, file:// or s3://), from which Source.URL is
	// made. Default: "", which leaves Source.URL the table's root.
	URL string
	// At selects the snapshot of every table. Default: the latest.
	At At
	// Logger is handed to the tables. Default: discard.
	Logger *slog.Logger
}

// At selects a snapshot: a version, or the one current at a time; the latest when
// both are nil.
type At struct {
	Version *int64
	Time    *time.Time
}

// Catalog is the set of tables a statement may name. Source, Snapshot and Plan are
// safe for concurrent use once the tables are added.
type Catalog struct {
	cfg Config
	// roots are the pipeline's tables; with lakeOnly, any layer.name of the lake is
	// one too (found by name, not by listing the lake).
	roots    map[engine.TableName]string
	order    []engine.TableName
	lakeOnly bool
	ext      map[engine.TableName]Source

	mu    sync.Mutex
	snaps map[engine.TableName]*lake.Snapshot
}

// Source is where a table's log and files are.
type Source struct {
	Root  string // the table's root in the lake; "" for an external table
	Table *lake.Table
	Cache *cache.Cache
	URL   string // the table's URL, as lakectl table commands take it
}

// Layers are the schemas of a lake's tables, each the top directory of its tables.
var Layers = []string{"bronze", "silver", "quarantine", "ref", "gold", "views"}

// NameRe matches the names a table of a layer can have: also what keeps a name that
// a statement writes from reaching outside its layer's directory.
var NameRe = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

func newCatalog(cfg Config) *Catalog {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Cache == nil && cfg.Store != nil {
		cfg.Cache = cache.New(cfg.Store, "", 0)
	}
	return &Catalog{cfg: cfg, roots: map[engine.TableName]string{},
		ext: map[engine.TableName]Source{}, snaps: map[engine.TableName]*lake.Snapshot{}}
}

// ForPipeline is the catalog of p's tables: its streams' Bronze tables, its Silver
// tables and their quarantines, its reference tables, and a Gold table per
// models/*.sql and a view per views/*.sql of its directory.
func ForPipeline(p *pipeline.Pipeline, cfg Config) *Catalog {
	c := newCatalog(cfg)
	if cfg.Store == nil {
		return c
	}
	for _, s := range p.Streams {
		c.add("bronze", s.Name, layout.TableRoot(s.Name))
	}
	for _, t := range p.Silver {
		c.add("silver", t.Name, silver.Root(t.Name))
		c.add("quarantine", t.Name, silver.QuarantineRoot(t.Name))
	}
	for _, r := range p.Reference {
		c.add("ref", r.Name, silver.RefRoot(r.Name))
	}
	for _, layer := range []struct{ schema, dir string }{{"gold", "models"}, {"views", "views"}} {
		files, _ := filepath.Glob(filepath.Join(p.Dir, layer.dir, "*.sql"))
		for _, f := range files {
			name := strings.TrimSuffix(filepath.Base(f), ".sql")
			c.add(layer.schema, name, layer.schema+"/"+name)
		}
	}
	return c
}

// ForLake is the catalog of a lake without a pipeline: any <layer>.<name> is the
// table <layer>/<name>, when it exists.
func ForLake(cfg Config) *Catalog {
	c := newCatalog(cfg)
	c.lakeOnly = cfg.Store != nil
	return c
}

func (c *Catalog) add(schema, name, root string) {
	n := engine.TableName{Schema: schema, Name: name}
	c.roots[n] = root
	c.order = append(c.order, n)
}

// AddExternal makes the Delta table of src queryable as name (DuckDB's main.name),
// in place of any table added by that name before.
func (c *Catalog) AddExternal(name string, src Source) {
	n := engine.TableName{Name: name}
	if _, dup := c.ext[n]; !dup {
		c.order = append(c.order, n)
	}
	c.ext[n] = src
	delete(c.snaps, n)
}

// Source finds table n; false when no table by that name can be named.
func (c *Catalog) Source(n engine.TableName) (Source, bool) {
	if src, ok := c.ext[n]; ok {
		return src, true
	}
	if c.cfg.Store == nil {
		return Source{}, false
	}
	root, ok := c.roots[n]
	if !ok && c.lakeOnly && slices.Contains(Layers, n.Schema) && NameRe.MatchString(n.Name) {
		root, ok = n.Schema+"/"+n.Name, true
	}
	if !ok {
		return Source{}, false
	}
	return Source{Root: root, Table: lake.NewTable(c.cfg.Store, root, lake.WithLogger(c.cfg.Logger)),
		Cache: c.cfg.Cache, URL: c.url(root)}, true
}

// url is the URL of the lake's table at root, as lakectl table commands take it.
func (c *Catalog) url(root string) string {
	base := c.cfg.URL
	u, err := url.Parse(base)
	switch {
	case base == "":
		return root
	case err != nil || u.Scheme == "":
		return filepath.Join(base, filepath.FromSlash(root))
	case u.Scheme == "file":
		return filepath.Join(filepath.FromSlash(u.Path), filepath.FromSlash(root))
	}
	u.Path = path.Join(u.Path, root)
	return u.String()
}

// Snapshot loads table n's snapshot as Config.At selects, once: later calls return
// the same. lake.ErrNoTable when nothing has written it yet; an error for a table
// Source does not know.
func (c *Catalog) Snapshot(ctx context.Context, n engine.TableName) (*lake.Snapshot, error) {
	c.mu.Lock()
	snap, ok := c.snaps[n]
	c.mu.Unlock()
	if ok {
		return snap, nil
	}
	src, ok := c.Source(n)
	if !ok {
		return nil, fmt.Errorf("%s: not a table of the lake", n)
	}
	var err error
	switch at := c.cfg.At; {
	case at.Version != nil:
		snap, err = src.Table.At(ctx, *at.Version)
	case at.Time != nil:
		snap, err = src.Table.AsOf(ctx, *at.Time)
	default:
		snap, err = src.Table.Latest(ctx)
	}
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if first, ok := c.snaps[n]; ok {
		return first, nil // loaded at the same time by another caller: one version for all
	}
	c.snaps[n] = snap
	return snap, nil
}

// Names are the tables there may be: the pipeline's and the external ones, or, for
// a lake alone, the tables found under its layers (a layer that cannot be listed is
// left out: a statement naming one of its tables says why).
func (c *Catalog) Names(ctx context.Context) []engine.TableName {
	if !c.lakeOnly {
		return slices.Clone(c.order)
	}
	var out []engine.TableName
	for _, layer := range Layers {
		objs, err := c.cfg.Store.List(ctx, layer+"/", "")
		if err != nil {
			continue
		}
		for _, o := range objs {
			name, rest, _ := strings.Cut(strings.TrimPrefix(o.Key, layer+"/"), "/")
			n := engine.TableName{Schema: layer, Name: name}
			if strings.HasPrefix(rest, "_delta_log/") && NameRe.MatchString(name) && !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return append(out, c.order...)
}
