package views

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/gold"
	"github.com/lakectl/lakectl/pipeline"
)

// Views are the loaded views of a pipeline, by name.
type Views struct {
	Order []*View // by name
	// Invalid are the views that LoadAll refused, by file name; Load refuses the
	// pipeline for the first.
	Invalid []*gold.ModelError
	byName  map[string]*View
}

// View returns the view called name, nil if there is none.
func (vs *Views) View(name string) *View { return vs.byName[name] }

// Load reads and checks every views/*.sql of the pipeline, with a DuckDB session of
// cfg for the parser. Every problem with a view is a *gold.ModelError with file and
// line: the header (see the package doc), the SELECT as Gold checks a model's
// (gold.ParseSelect), and a table that is not silver.*, ref.* or a gold.* model.
func Load(ctx context.Context, p *pipeline.Pipeline, cfg engine.Config) (*Views, error) {
	vs, err := LoadAll(ctx, p, cfg)
	if err != nil {
		return nil, err
	}
	if len(vs.Invalid) > 0 {
		return nil, vs.Invalid[0]
	}
	return vs, nil
}

// LoadAll is Load that does not stop at a view it refuses: it returns the valid views
// in Order and each refused one in Invalid, for a report of the whole pipeline
// (lakectl status). The error is for what is no single view's fault: the directory,
// the DuckDB session, a file that cannot be read.
func LoadAll(ctx context.Context, p *pipeline.Pipeline, cfg engine.Config) (*Views, error) {
	files, err := filepath.Glob(filepath.Join(p.Dir, Dir, "*.sql"))
	if err != nil {
		return nil, fmt.Errorf("list views: %w", err)
	}
	vs := &Views{byName: map[string]*View{}}
	if len(files) == 0 {
		return vs, nil
	}
	sess, err := engine.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer sess.Close()
	known, err := knownTables(p)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		v, err := loadView(ctx, sess, f, known)
		var me *gold.ModelError
		if errors.As(err, &me) {
			vs.Invalid = append(vs.Invalid, me)
			continue
		}
		if err != nil {
			return nil, err
		}
		vs.byName[v.Name] = v
		vs.Order = append(vs.Order, v)
	}
	return vs, nil
}

func loadView(ctx context.Context, sess *engine.Session, file string, known map[engine.TableName]bool) (*View, error) {
	name := strings.TrimSuffix(filepath.Base(file), ".sql")
	if !viewName.MatchString(name) {
		return nil, &gold.ModelError{File: file, Msg: "a view's file name is its table name: lower case letters, digits and _, starting with a letter"}
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read view: %w", err)
	}
	v := &View{Name: name, File: file, text: string(data)}
	if err := parseHeader(v); err != nil {
		return nil, err
	}
	if v.query, err = gold.ParseSelect(ctx, sess, file, v.text); err != nil {
		return nil, err
	}
	v.Inputs = v.query.Inputs
	for _, t := range v.query.Tables {
		switch {
		case t.Name.Schema == "":
			return nil, &gold.ModelError{File: file, Line: t.Line, Msg: fmt.Sprintf("table %s: name a table with its layer: silver.%[1]s, ref.%[1]s or gold.%[1]s", t.Name.Name)}
		case !known[t.Name]:
			return nil, &gold.ModelError{File: file, Line: t.Line, Msg: fmt.Sprintf("unknown table %s: a view reads %s", t.Name, listKnown(known))}
		}
	}
	return v, nil
}

// knownTables are the tables a view may read: silver.*, ref.*, and the gold.* models
// (by their files; Gold's own Load checks them).
func knownTables(p *pipeline.Pipeline) (map[engine.TableName]bool, error) {
	known := map[engine.TableName]bool{}
	for _, t := range p.Silver {
		known[engine.TableName{Schema: "silver", Name: t.Name}] = true
	}
	for _, r := range p.Reference {
		known[engine.TableName{Schema: "ref", Name: r.Name}] = true
	}
	models, err := filepath.Glob(filepath.Join(p.Dir, gold.ModelsDir, "*.sql"))
	if err != nil {
		return nil, fmt.Errorf("list models: %w", err)
	}
	for _, f := range models {
		known[engine.TableName{Schema: "gold", Name: strings.TrimSuffix(filepath.Base(f), ".sql")}] = true
	}
	return known, nil
}

func listKnown(known map[engine.TableName]bool) string {
	var names []string
	for n := range known {
		names = append(names, n.String())
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// Selected returns the views called names, all of them when names is empty.
func (vs *Views) Selected(names []string) ([]*View, error) {
	if len(names) == 0 {
		return vs.Order, nil
	}
	var out []*View
	for _, n := range names {
		v := vs.View(n)
		if v == nil {
			var all []string
			for _, v := range vs.Order {
				all = append(all, v.Name)
			}
			return nil, fmt.Errorf("no view %q (the views are %s)", n, strings.Join(all, ", "))
		}
		out = append(out, v)
	}
	return out, nil
}
