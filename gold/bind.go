package gold

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/engine/sqlfrag"
	"github.com/lakectl/lakectl/pipeline"
	"github.com/lakectl/lakectl/silver"
)

// bind runs each model, in order, over empty views with its inputs' columns, to check
// that it binds and that its partition column is a DATE. Silver's columns come from
// the contracts; a model's, from the model. Models reading a reference table are
// bound at run time, when the table's columns are known. A model that does not bind,
// or that reads a gold.* model not in ms.Order (refused before, or here), moves from
// ms.Order to ms.Invalid.
func bind(ctx context.Context, sess *engine.Session, p *pipeline.Pipeline, ms *Models) error {
	for _, t := range p.Silver {
		c, err := silver.Compile(t)
		if err != nil {
			return err
		}
		var cols []string
		for _, col := range c.Columns {
			typ := col.DuckDB
			if typ == "" {
				typ = "VARCHAR" // an enriched column: its type is the reference table's
			}
			cols = append(cols, "CAST(NULL AS "+typ+") AS "+sqlfrag.Ident(col.Name).String())
		}
		if err := emptyView(ctx, sess, "silver", t.Name, "SELECT "+strings.Join(cols, ", ")+" WHERE false"); err != nil {
			return err
		}
	}
	// Models run as users wrote them: only in a sealed session.
	if err := sess.Seal(ctx, engine.SealOptions{}); err != nil {
		return err
	}
	bound := map[string]bool{}
	for _, m := range ms.Order {
		bound[m.Name] = true
	}
	skip := map[string]bool{}
	var order []*Model
	for _, m := range ms.Order {
		if err := bindModel(ctx, sess, m, bound, skip); err != nil {
			bound[m.Name] = false
			if err := ms.refuse(err); err != nil {
				return err
			}
			continue
		}
		order = append(order, m)
	}
	ms.Order = order
	return nil
}

// bindModel binds m, unless it reads a reference table or a model bound at run time
// (then it records m in skip); bound says which models bound, or will.
func bindModel(ctx context.Context, sess *engine.Session, m *Model, bound, skip map[string]bool) error {
	for _, in := range m.Inputs {
		if in.Schema == "gold" && !bound[in.Name] {
			return &ModelError{File: m.File, Line: m.inputLine("gold", in.Name), Msg: fmt.Sprintf("reads gold.%s, which is invalid", in.Name)}
		}
	}
	for _, in := range m.Inputs {
		if in.Schema == "ref" || (in.Schema == "gold" && skip[in.Name]) {
			skip[m.Name] = true
		}
	}
	if skip[m.Name] {
		return nil
	}
	cols, err := resultColumns(ctx, sess, m.text)
	if err != nil {
		return &ModelError{File: m.File, Line: m.sqlLine(), Msg: err.Error()}
	}
	typ, ok := cols[strings.ToLower(m.Partition)]
	switch {
	case !ok:
		return &ModelError{File: m.File, Line: m.lines["partition "], Msg: fmt.Sprintf("partition column %s is not in the result of the SELECT", m.Partition)}
	case typ != "DATE":
		return &ModelError{File: m.File, Line: m.lines["partition "], Msg: fmt.Sprintf("partition column %s is %s: it must be a DATE (cast it: CAST(... AS DATE) AS %[1]s)", m.Partition, typ)}
	}
	for _, name := range slices.Sorted(maps.Keys(cols)) {
		if _, err := engine.DeltaType(cols[name]); err != nil {
			return &ModelError{File: m.File, Line: m.sqlLine(), Msg: fmt.Sprintf("column %s: %v; cast it, e.g. CAST(... AS BIGINT)", name, err)}
		}
	}
	if err := emptyView(ctx, sess, "gold", m.Name, "SELECT * FROM (\n"+body(m.text)+"\n) WHERE false"); err != nil {
		return &ModelError{File: m.File, Line: m.sqlLine(), Msg: err.Error()}
	}
	// The audits bind against the day's rows (`this`) as the model makes them.
	if _, err := sess.ExecContext(ctx, "CREATE OR REPLACE TEMP VIEW "+sqlfrag.Ident(thisTable).String()+" AS SELECT * FROM "+sqlfrag.Qualified("gold", m.Name).String()); err != nil {
		return fmt.Errorf("bind audits of %s: %w", m.Name, err)
	}
	for _, a := range m.Audits {
		if _, err := resultColumns(ctx, sess, a.SQL); err != nil {
			return &ModelError{File: m.File, Line: a.Line, Msg: fmt.Sprintf("audit %s: %v", a.Name, err)}
		}
	}
	return nil
}

func emptyView(ctx context.Context, sess *engine.Session, schema, name, query string) error {
	for _, st := range []string{
		"CREATE SCHEMA IF NOT EXISTS " + sqlfrag.Ident(schema).String(),
		"CREATE OR REPLACE VIEW " + sqlfrag.Qualified(schema, name).String() + " AS " + query,
	} {
		if _, err := sess.ExecContext(ctx, st); err != nil {
			return fmt.Errorf("bind %s.%s: %w", schema, name, err)
		}
	}
	return nil
}

// resultColumns binds query and returns its columns by lower-case name with their
// DuckDB types.
func resultColumns(ctx context.Context, sess *engine.Session, query string) (map[string]string, error) {
	rows, err := sess.QueryContext(ctx, "SELECT * FROM (\n"+body(query)+"\n) LIMIT 0")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, t := range types {
		out[strings.ToLower(t.Name())] = t.DatabaseTypeName()
	}
	return out, rows.Err()
}

// body is a checked single SELECT made fit to nest in parentheses: no trailing
// semicolon.
func body(text string) string {
	t := strings.TrimRight(text, " \t\r\n")
	return strings.TrimSuffix(t, ";")
}
