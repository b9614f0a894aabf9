package gold

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/pipeline"
)

// ModelsDir is the directory of the pipeline that holds the models.
const ModelsDir = "models"

// thisTable is the name under which audits read the day's new rows.
const thisTable = "this"

// Models are the loaded models of a pipeline, in dependency order: every model after
// the models it reads.
type Models struct {
	Order []*Model
	// Invalid are the models that LoadAll refused, each with its file and line; Load
	// refuses the pipeline for the first.
	Invalid []*ModelError
	byName  map[string]*Model
}

// Model returns the model called name, nil if there is none.
func (ms *Models) Model(name string) *Model { return ms.byName[name] }

// Load reads and checks every models/*.sql of the pipeline. It opens a DuckDB session
// with cfg for DuckDB's parser and to bind each model, sealed, against the columns of
// its inputs. Every problem with a model is a *ModelError with file and line.
func Load(ctx context.Context, p *pipeline.Pipeline, cfg engine.Config) (*Models, error) {
	ms, err := LoadAll(ctx, p, cfg)
	if err != nil {
		return nil, err
	}
	if len(ms.Invalid) > 0 {
		return nil, ms.Invalid[0]
	}
	return ms, nil
}

// LoadAll is Load that does not stop at a model it refuses: it returns the valid
// models in Order and each refused one in Invalid, for a report of the whole
// pipeline (lakectl status). A model that reads a refused one is refused too, as it
// cannot be checked. The error is for what is no single model's fault: the
// directory, the DuckDB session, the Silver contracts.
func LoadAll(ctx context.Context, p *pipeline.Pipeline, cfg engine.Config) (*Models, error) {
	sess, err := engine.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer sess.Close()
	files, err := filepath.Glob(filepath.Join(p.Dir, ModelsDir, "*.sql"))
	if err != nil {
		return nil, fmt.Errorf("list models: %w", err)
	}
	ms := &Models{byName: map[string]*Model{}}
	var all []*Model
	for _, f := range files {
		m, err := loadModel(ctx, sess, f)
		if err != nil {
			if err := ms.refuse(err); err != nil {
				return nil, err
			}
			continue
		}
		all = append(all, m)
	}
	known := knownTables(p, files)
	var checked []*Model
	for _, m := range all {
		if err := checkTables(m, known); err != nil {
			if err := ms.refuse(err); err != nil {
				return nil, err
			}
			continue
		}
		checked = append(checked, m)
	}
	for {
		if ms.Order, err = order(checked); err == nil {
			break
		}
		// A cycle: refuse the model that closes it; bind refuses the others, which
		// read it.
		var cycle *ModelError
		if !errors.As(err, &cycle) {
			return nil, err
		}
		ms.Invalid = append(ms.Invalid, cycle)
		checked = slices.DeleteFunc(checked, func(m *Model) bool { return m.File == cycle.File })
	}
	if err := bind(ctx, sess, p, ms); err != nil {
		return nil, err
	}
	for _, m := range ms.Order {
		ms.byName[m.Name] = m
	}
	return ms, nil
}

// refuse records err in Invalid if it is a model's problem (a *ModelError), and
// returns any other error.
func (ms *Models) refuse(err error) error {
	var me *ModelError
	if errors.As(err, &me) {
		ms.Invalid = append(ms.Invalid, me)
		return nil
	}
	return err
}

// loadModel reads and parses one model file.
func loadModel(ctx context.Context, sess *engine.Session, f string) (*Model, error) {
	name := strings.TrimSuffix(filepath.Base(f), ".sql")
	if !modelName.MatchString(name) {
		return nil, &ModelError{File: f, Msg: "a model's file name is its table name: lower case letters, digits and _, starting with a letter"}
	}
	data, err := os.ReadFile(f)
	if err != nil {
		return nil, fmt.Errorf("read model: %w", err)
	}
	m := &Model{Name: name, File: f, text: string(data)}
	if err := parseHeader(m); err != nil {
		return nil, err
	}
	if err := parseSQL(ctx, sess, m); err != nil {
		return nil, err
	}
	return m, nil
}

// knownTables are the tables a model may read: silver.*, ref.*, and gold.* models, by
// their files, refused or not (a model that reads a refused one is told so by bind).
func knownTables(p *pipeline.Pipeline, files []string) map[engine.TableName]bool {
	known := map[engine.TableName]bool{}
	for _, t := range p.Silver {
		known[engine.TableName{Schema: "silver", Name: t.Name}] = true
	}
	for _, r := range p.Reference {
		known[engine.TableName{Schema: "ref", Name: r.Name}] = true
	}
	for _, f := range files {
		if name := strings.TrimSuffix(filepath.Base(f), ".sql"); modelName.MatchString(name) {
			known[engine.TableName{Schema: "gold", Name: name}] = true
		}
	}
	return known
}

// tableRef is a table that the SQL names, where it names it.
type tableRef struct {
	name engine.TableName
	at   int // byte offset in the text
}

// sqlTree is what lakectl reads from DuckDB's parse tree of a model or audit.
type sqlTree struct {
	statements int
	tables     []tableRef
	functions  []tableRef // table functions: read_csv, range, ...
	ctes       map[string]bool
}

// parseTree parses text, which starts at line base of file, with DuckDB's
// json_serialize_sql. A syntax error is returned as a *ModelError at its line, else at
// stmtLine, where the statement starts.
func parseTree(ctx context.Context, sess *engine.Session, file, text string, base, stmtLine int) (*sqlTree, error) {
	var raw string
	if err := sess.QueryRowContext(ctx, "SELECT CAST(json_serialize_sql(CAST($1 AS VARCHAR)) AS VARCHAR)", text).Scan(&raw); err != nil {
		return nil, fmt.Errorf("parse %s: %w", file, err)
	}
	var res struct {
		Error      bool              `json:"error"`
		ErrorType  string            `json:"error_type"`
		Message    string            `json:"error_message"`
		Position   string            `json:"position"`
		Statements []json.RawMessage `json:"statements"`
	}
	if err := json.Unmarshal([]byte(raw), &res); err != nil {
		return nil, fmt.Errorf("parse %s: %w", file, err)
	}
	if res.Error {
		line := stmtLine
		if pos, err := strconv.Atoi(res.Position); err == nil {
			line = base + lineAt(text, pos) - 1
		}
		if res.ErrorType == "not implemented" {
			return nil, &ModelError{File: file, Line: line, Msg: "refused: a model is one SELECT; COPY, ATTACH, SET, CREATE, INSERT and the like are not queries"}
		}
		return nil, &ModelError{File: file, Line: line, Msg: "syntax error: " + res.Message}
	}
	t := &sqlTree{statements: len(res.Statements), ctes: map[string]bool{}}
	for _, st := range res.Statements {
		var node any
		if err := json.Unmarshal(st, &node); err != nil {
			return nil, fmt.Errorf("parse %s: %w", file, err)
		}
		t.walk(node)
	}
	return t, nil
}

func (t *sqlTree) walk(node any) {
	switch n := node.(type) {
	case []any:
		for _, c := range n {
			t.walk(c)
		}
	case map[string]any:
		loc := -1
		if f, ok := n["query_location"].(float64); ok && f < 1<<53 {
			loc = int(f)
		}
		switch n["type"] {
		case "BASE_TABLE":
			schema, _ := n["schema_name"].(string)
			name, _ := n["table_name"].(string)
			t.tables = append(t.tables, tableRef{engine.TableName{Schema: strings.ToLower(schema), Name: strings.ToLower(name)}, loc})
		case "TABLE_FUNCTION":
			if f, ok := n["function"].(map[string]any); ok {
				name, _ := f["function_name"].(string)
				t.functions = append(t.functions, tableRef{engine.TableName{Name: strings.ToLower(name)}, loc})
			}
		}
		if cm, ok := n["cte_map"].(map[string]any); ok {
			entries, _ := cm["map"].([]any)
			for _, e := range entries {
				if kv, ok := e.(map[string]any); ok {
					if k, ok := kv["key"].(string); ok {
						t.ctes[strings.ToLower(k)] = true
					}
				}
			}
		}
		for _, c := range n {
			t.walk(c)
		}
	}
}

// harmlessTableFunctions make rows from their arguments and read nothing.
var harmlessTableFunctions = []string{"range", "generate_series", "unnest"}

// parseSQL parses the model's SELECT and audits and records their inputs.
func parseSQL(ctx context.Context, sess *engine.Session, m *Model) error {
	if strings.TrimSpace(stripComments(m.text)) == "" {
		return &ModelError{File: m.File, Line: 1, Msg: "no query: a model is one SELECT below its header"}
	}
	tree, err := parseTree(ctx, sess, m.File, m.text, 1, m.sqlLine())
	if err != nil {
		return err
	}
	if err := checkTree(m.File, m.text, 1, tree, m.sqlLine()); err != nil {
		return err
	}
	if m.query, err = userSQL(ctx, sess, m.File, m.sqlLine(), m.text); err != nil {
		return err
	}
	if err := crossCheck(m.File, m.sqlLine(), tree, m.query); err != nil {
		return err
	}
	m.Inputs = inputs(tree)
	for _, r := range tree.tables {
		if r.name.Schema != "" || !tree.ctes[r.name.Name] {
			m.refs = append(m.refs, r)
		}
	}
	if len(m.Inputs) == 0 {
		return &ModelError{File: m.File, Line: m.sqlLine(), Msg: "the model's inputs cannot be determined: its SELECT names no table (a model reads silver.*, ref.* or gold.* tables)"}
	}
	for i := range m.Audits {
		a := &m.Audits[i]
		at, err := parseTree(ctx, sess, m.File, a.SQL, a.Line, a.Line)
		if err != nil {
			return err
		}
		if err := checkTree(m.File, a.SQL, a.Line, at, a.Line); err != nil {
			return err
		}
		if a.sql, err = userSQL(ctx, sess, m.File, a.Line, a.SQL); err != nil {
			return err
		}
		for _, t := range inputs(at) {
			if t == (engine.TableName{Name: thisTable}) || slices.Contains(m.Inputs, t) {
				continue
			}
			return &ModelError{File: m.File, Line: a.Line, Msg: fmt.Sprintf("audit %s reads %s, which the model does not: an audit reads `this` (the day's new rows) and the model's inputs", a.Name, t)}
		}
	}
	return nil
}

// stripComments drops -- comment lines, to see whether anything else is there.
func stripComments(text string) string {
	var b strings.Builder
	for _, l := range strings.Split(text, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "--") {
			b.WriteString(l)
		}
	}
	return b.String()
}

// checkTree refuses more than one statement and table functions that read files.
func checkTree(file, text string, base int, t *sqlTree, stmtLine int) error {
	if t.statements != 1 {
		return &ModelError{File: file, Line: stmtLine, Msg: fmt.Sprintf("%d statements: a model or audit is one SELECT", t.statements)}
	}
	for _, f := range t.functions {
		if slices.Contains(harmlessTableFunctions, f.name.Name) {
			continue
		}
		return &ModelError{File: file, Line: base + lineAt(text, f.at) - 1,
			Msg: fmt.Sprintf("refused: table function %s: a model reads only the lake's tables (silver.*, ref.*, gold.*), never files", f.name.Name)}
	}
	return nil
}

// userSQL runs the sandbox's own check (engine.ParseUserSQL) on text.
func userSQL(ctx context.Context, sess *engine.Session, file string, line int, text string) (*engine.UserSQL, error) {
	q, err := sess.ParseUserSQL(ctx, text)
	var refused *engine.RefusedError
	if errors.As(err, &refused) {
		return nil, &ModelError{File: file, Line: line, Msg: err.Error()}
	}
	if err != nil {
		return nil, &ModelError{File: file, Line: line, Msg: err.Error()}
	}
	return q, nil
}

// crossCheck compares the tables lakectl found in the tree with the sandbox's list:
// the two walks must agree, or the inputs are not known for sure.
func crossCheck(file string, line int, t *sqlTree, q *engine.UserSQL) error {
	mine := map[engine.TableName]bool{}
	for _, r := range t.tables {
		mine[r.name] = true
	}
	for _, n := range q.Tables {
		if !mine[n] {
			return &ModelError{File: file, Line: line, Msg: "the model's inputs cannot be determined: the parser's tree and the sandbox disagree about " + n.String()}
		}
	}
	return nil
}

// inputs are the tables of the tree that are not common table expressions, sorted.
func inputs(t *sqlTree) []engine.TableName {
	var out []engine.TableName
	for _, r := range t.tables {
		if r.name.Schema == "" && t.ctes[r.name.Name] {
			continue
		}
		out = append(out, r.name)
	}
	slices.SortFunc(out, func(a, b engine.TableName) int { return strings.Compare(a.String(), b.String()) })
	return slices.Compact(out)
}

// checkTables refuses unknown tables and windows of tables the model does not read.
func checkTables(m *Model, known map[engine.TableName]bool) error {
	for _, r := range m.refs {
		n := r.name
		line := lineAt(m.text, r.at)
		switch {
		case n.Schema == "" && n.Name == thisTable:
			return &ModelError{File: m.File, Line: line, Msg: "`this` is the day's new rows, for audits; the model itself reads its inputs"}
		case n.Schema == "":
			return &ModelError{File: m.File, Line: line, Msg: fmt.Sprintf("table %s: name a table with its layer: silver.%[1]s, ref.%[1]s or gold.%[1]s", n.Name)}
		case !known[n]:
			return &ModelError{File: m.File, Line: line, Msg: fmt.Sprintf("unknown table %s: the pipeline has %s", n, listKnown(known))}
		}
	}
	for t := range m.Windows {
		if !slices.Contains(m.Inputs, t) {
			return &ModelError{File: m.File, Line: m.lines["window "+t.String()], Msg: fmt.Sprintf("window of %s, which the model does not read", t)}
		}
		if t.Schema == "ref" {
			return &ModelError{File: m.File, Line: m.lines["window "+t.String()], Msg: fmt.Sprintf("window of %s: a reference table is read whole, it has no days", t)}
		}
	}
	return nil
}

func listKnown(known map[engine.TableName]bool) string {
	var names []string
	for n := range known {
		names = append(names, n.String())
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}
