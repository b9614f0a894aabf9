package engine

import (
	"context"
	"encoding/json"
	"math/big"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lakectl/lakectl/lake"
)

// Pruning: before a table's files are fetched, its Delta log says which ones the query
// can need. ParseUserSQL keeps, for every scan of a table in the SQL (each FROM or
// JOIN that names it), the condition that the WHERE clause around it puts on its
// columns: comparisons of a column with constants (=, <>, <, <=, >, >=, IN, NOT IN,
// BETWEEN), joined by AND and OR, under NOT. Prune then evaluates that condition in Go
// against each file's partition values and min/max statistics, read in the column's
// type as DuckDB reads them (prunevalue.go); a file is not fetched only when no row of
// it can pass.
//
// Pruning must never change a result, so in doubt a file is kept: a part of the
// condition that is not understood (another table's column, an expression, a constant
// that is not read exactly as DuckDB would read it) passes every file, so it drops
// out of an AND and makes an OR keep everything; a scan under a kind of join where
// fewer rows on one side give more rows (an ASOF or POSITIONAL join), or sampled,
// keeps every file; a file without statistics for a column keeps it; FLOAT and DOUBLE
// statistics are not used (NaN is outside them), a string maximum as long as the
// truncation writers apply (32 characters) is not used, and timestamp statistics,
// which writers may store in milliseconds, are widened by a millisecond on each side.
// Every comparison is NULL for a NULL column, and AND, OR and NOT of NULLs are NULL,
// so the condition drops the rows a pruned file would have given even on the outer
// side of a join.
//
//	q, err := sess.ParseUserSQL(ctx, sql)
//	adds, report, err := sess.Prune(ctx, q, name, snap, snap.Files())
//	err = sess.RegisterFiles(ctx, name.Schema, name.Name, snap, adds, files)

// scan is one scan of a table in user SQL: the condition that its rows must pass, nil
// when none can be used (every file is kept).
type scan struct {
	where *cond
}

// cond is a condition on the rows of a scan: a comparison pred, or the AND or OR of
// kids. NOT is pushed down into the comparisons (De Morgan's laws hold in SQL's
// three-valued logic).
type cond struct {
	op   string // "and", "or"; "" for pred
	kids []*cond
	pred predicate
}

// predicate is `column op values`: op is one of = <> < <= > >= in notin between
// notbetween; values are constants of the parse tree (literals, numbers, casts to a
// known type).
type predicate struct {
	column string // lower case
	op     string
	values []constant
}

// negated is the operator of NOT (column op values).
var negated = map[string]string{"=": "<>", "<>": "=", "<": ">=", "<=": ">", ">": "<=", ">=": "<",
	"in": "notin", "notin": "in", "between": "notbetween", "notbetween": "between"}

// constant is a constant of a comparison and its kind: a string literal ("literal",
// s) takes the column's type; a number (n), a time (t, a UTC instant) or a cast to
// VARCHAR ("text", s) compares in its own kind, so it prunes only a column of that
// kind, where the order of the column's values is the order of the comparison ('10' <
// '9' as strings, not as numbers).
type constant struct {
	kind string // "literal", "number", "time" or "text"
	s    string
	n    number
	t    time.Time
}

// PruneReport says what Prune kept of a table.
type PruneReport struct {
	Files, KeptFiles int
	Bytes, KeptBytes int64
	// Columns are the columns whose comparisons pruned, sorted.
	Columns []string
}

// Prune returns the files of adds (of snap, the table n of q) that the scans of n in q
// may read, in their order. A query that does not name n keeps nothing.
func (s *Session) Prune(ctx context.Context, q *UserSQL, n TableName, snap *lake.Snapshot, adds []lake.Add) ([]lake.Add, PruneReport, error) {
	rep := PruneReport{Files: len(adds)}
	for _, a := range adds {
		rep.Bytes += a.Size
	}
	keep := func(kept []lake.Add) ([]lake.Add, PruneReport, error) {
		rep.KeptFiles = len(kept)
		for _, a := range kept {
			rep.KeptBytes += a.Size
		}
		return kept, rep, nil
	}
	scans := q.scans[n]
	if len(scans) == 0 || len(adds) == 0 {
		return keep(nil)
	}
	tschema, err := snap.Schema()
	if err != nil {
		return nil, rep, err
	}
	cols, err := viewColumns(tschema, snap.PartitionColumns())
	if err != nil {
		return nil, rep, err
	}
	b := binder{byName: map[string]int{}}
	for _, c := range cols {
		b.byName[strings.ToLower(c.name)] = len(b.cols)
		b.cols = append(b.cols, newPruneColumn(c))
	}
	// A file is kept when some scan may read it: OR over the scans.
	var checks []*check
	for _, sc := range scans {
		ch := b.bind(sc.where)
		if ch == nil {
			return keep(adds)
		}
		checks = append(checks, ch)
	}
	f := fileBounds{cols: b.cols, bounds: make([]bound, len(b.cols)), done: make([]bool, len(b.cols)),
		last: make([]*string, len(b.cols)), lastBound: make([]bound, len(b.cols))}
	used := map[int]bool{}
	for _, ch := range checks {
		ch.columns(used)
	}
	for i := range used {
		if !b.cols[i].partition {
			f.want = append(f.want, b.cols[i].name)
		}
	}
	kept := make([]lake.Add, 0, len(adds))
	for i := range adds {
		f.reset(&adds[i])
		if slices.ContainsFunc(checks, f.may) {
			kept = append(kept, adds[i])
		}
	}
	for i := range used {
		rep.Columns = append(rep.Columns, b.cols[i].name)
	}
	slices.Sort(rep.Columns)
	return keep(kept)
}

// check is a cond bound to a table's columns: comparisons of columns that prune, with
// their constants as values of the column's type.
type check struct {
	op     string // "and", "or"; "" for a comparison
	kids   []*check
	col    int
	cmp    string
	values []value
}

// binder binds conds to one table's columns.
type binder struct {
	cols   []pruneColumn
	byName map[string]int
}

// bind is c as a check; nil when it passes every file.
func (b *binder) bind(c *cond) *check {
	if c == nil {
		return nil
	}
	if c.op == "" {
		i, ok := b.byName[c.pred.column]
		if !ok {
			return nil // not a column of this table (an outer query's, or an alias)
		}
		col := b.cols[i]
		if col.class == classNone {
			return nil
		}
		ch := &check{col: i, cmp: c.pred.op}
		for _, k := range c.pred.values {
			v, ok := bindConstant(col, k)
			if !ok {
				return nil
			}
			ch.values = append(ch.values, v)
		}
		return ch
	}
	out := &check{op: c.op}
	for _, k := range c.kids {
		kc := b.bind(k)
		switch {
		case kc != nil:
			out.kids = append(out.kids, kc)
		case c.op == "or":
			return nil // a part that passes every file makes the OR pass them all
		}
	}
	switch len(out.kids) {
	case 0:
		return nil
	case 1:
		return out.kids[0]
	}
	// Partition values first: they need no statistics read.
	slices.SortStableFunc(out.kids, func(x, y *check) int {
		return cmpBool(b.partitionOnly(y), b.partitionOnly(x))
	})
	return out
}

// columns adds the columns that ch compares to used.
func (ch *check) columns(used map[int]bool) {
	if ch.op == "" {
		used[ch.col] = true
	}
	for _, k := range ch.kids {
		k.columns(used)
	}
}

// partitionOnly reports whether ch reads only partition columns.
func (b *binder) partitionOnly(ch *check) bool {
	if ch.op == "" {
		return b.cols[ch.col].partition
	}
	for _, k := range ch.kids {
		if !b.partitionOnly(k) {
			return false
		}
	}
	return true
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// fileBounds reads one file's bounds of the columns as checks ask for them.
type fileBounds struct {
	cols     []pruneColumn
	want     []string // the columns with statistics that checks ask for
	add      *lake.Add
	read     bool // whether min and max are read
	min, max map[string]json.RawMessage
	bounds   []bound
	done     []bool
	// last is the partition value of the file before, by column, and lastBound its
	// bound.
	last      []*string
	lastBound []bound
}

func (f *fileBounds) reset(a *lake.Add) {
	f.add, f.read = a, false
	clear(f.done)
}

func (f *fileBounds) bound(i int) bound {
	if f.done[i] {
		return f.bounds[i]
	}
	c := f.cols[i]
	if c.partition {
		// Files come sorted by path, so a partition's files follow each other: its
		// value is read once.
		v := f.add.PartitionValues[c.name]
		if f.last[i] == nil || v == nil || *f.last[i] != *v {
			f.lastBound[i] = partitionBound(c, v)
		}
		f.last[i] = v
		f.bounds[i] = f.lastBound[i]
	} else {
		if !f.read {
			f.min, f.max = statsBounds(f.add.Stats, f.want)
			f.read = true
		}
		f.bounds[i] = statsBound(c, f.min[c.name], f.max[c.name])
	}
	f.done[i] = true
	return f.bounds[i]
}

// may reports whether a row of the file may pass ch.
func (f *fileBounds) may(ch *check) bool {
	switch ch.op {
	case "and":
		for _, k := range ch.kids {
			if !f.may(k) {
				return false
			}
		}
		return true
	case "or":
		return slices.ContainsFunc(ch.kids, f.may)
	}
	b := f.bound(ch.col)
	if b.null {
		return false
	}
	class := f.cols[ch.col].class
	// lo < v, lo <= v, ... for a bound that is known; an unknown one passes.
	loBelow := func(v value, orEqual bool) bool {
		c := compareValues(class, b.lo, v)
		return !b.hasLo || c < 0 || (orEqual && c == 0)
	}
	hiAbove := func(v value, orEqual bool) bool {
		c := compareValues(class, b.hi, v)
		return !b.hasHi || c > 0 || (orEqual && c == 0)
	}
	// only reports whether every value of the file is v.
	only := func(v value) bool {
		return b.hasLo && b.hasHi && compareValues(class, b.lo, v) == 0 && compareValues(class, b.hi, v) == 0
	}
	v := ch.values
	switch ch.cmp {
	case "=":
		return loBelow(v[0], true) && hiAbove(v[0], true)
	case "<>":
		return !only(v[0])
	case "<":
		return loBelow(v[0], false)
	case "<=":
		return loBelow(v[0], true)
	case ">":
		return hiAbove(v[0], false)
	case ">=":
		return hiAbove(v[0], true)
	case "between":
		return hiAbove(v[0], true) && loBelow(v[1], true)
	case "notbetween":
		return loBelow(v[0], false) || hiAbove(v[1], false)
	case "in":
		return slices.ContainsFunc(v, func(x value) bool { return loBelow(x, true) && hiAbove(x, true) })
	case "notin":
		return !slices.ContainsFunc(v, only)
	}
	return true
}

// scanCollector finds the scans of tables in a json_serialize_sql tree.
type scanCollector struct {
	scans map[TableName][]scan
	// filtered are the BASE_TABLE nodes whose scan a SELECT's WHERE filters.
	filtered map[uintptr]scan
	refs     []map[string]any
}

func collectScans(statements []any) map[TableName][]scan {
	c := &scanCollector{scans: map[TableName][]scan{}, filtered: map[uintptr]scan{}}
	for _, st := range statements {
		c.walk(st)
	}
	for _, ref := range c.refs {
		n := baseTableName(ref)
		c.scans[n] = append(c.scans[n], c.filtered[nodeID(ref)])
	}
	return c.scans
}

func nodeID(m map[string]any) uintptr { return reflect.ValueOf(m).Pointer() }

func (c *scanCollector) walk(node any) {
	switch n := node.(type) {
	case []any:
		for _, x := range n {
			c.walk(x)
		}
	case map[string]any:
		switch n["type"] {
		case "BASE_TABLE":
			c.refs = append(c.refs, n)
		case "SELECT_NODE":
			c.selectNode(n)
		}
		for _, x := range n {
			c.walk(x)
		}
	}
}

// selectNode records the WHERE condition of a SELECT for the tables its FROM scans.
func (c *scanCollector) selectNode(n map[string]any) {
	where, _ := n["where_clause"].(map[string]any)
	if where == nil || n["sample"] != nil {
		return // USING SAMPLE draws from the rows before WHERE
	}
	var tables []map[string]any
	if !fromTables(n["from_table"], &tables) || len(tables) == 0 {
		return
	}
	// An unqualified column is the table's only when the FROM is that table alone.
	from, _ := n["from_table"].(map[string]any)
	alone := from["type"] == "BASE_TABLE"
	for _, t := range tables {
		if w := condition(where, t, alone, false); w != nil {
			c.filtered[nodeID(t)] = scan{where: w}
		}
	}
}

// fromTables collects the tables that a FROM clause scans directly, through joins
// where a WHERE comparison may prune either side; false when the FROM has a join of
// another kind (ASOF, POSITIONAL, SEMI, ANTI, lateral), whose tables keep every file.
func fromTables(node any, out *[]map[string]any) bool {
	n, _ := node.(map[string]any)
	if n == nil {
		return false
	}
	switch n["type"] {
	case "BASE_TABLE":
		if n["sample"] != nil || n["at_clause"] != nil {
			return false
		}
		*out = append(*out, n)
		return true
	case "JOIN":
		jt, _ := n["join_type"].(string)
		rt, _ := n["ref_type"].(string)
		if n["sample"] != nil || !(jt == "INNER" || jt == "LEFT" || jt == "RIGHT" || jt == "FULL") ||
			!(rt == "REGULAR" || rt == "NATURAL" || rt == "CROSS") {
			return false
		}
		return fromTables(n["left"], out) && fromTables(n["right"], out)
	}
	// A subquery, a table function, VALUES: scanned under their own SELECT.
	return true
}

// condition reads e (negated if neg) as a condition on the columns of table t; nil
// when no part of it is understood, or a part not understood is under an OR (that
// part may pass any row). alone: see comparison.
func condition(e, t map[string]any, alone, neg bool) *cond {
	switch e["type"] {
	case "CONJUNCTION_AND", "CONJUNCTION_OR":
		op := "or"
		if (e["type"] == "CONJUNCTION_AND") != neg {
			op = "and"
		}
		out := &cond{op: op}
		kids, _ := e["children"].([]any)
		for _, k := range kids {
			m, _ := k.(map[string]any)
			switch kc := condition(m, t, alone, neg); {
			case kc != nil:
				out.kids = append(out.kids, kc)
			case op == "or":
				return nil
			}
		}
		switch len(out.kids) {
		case 0:
			return nil
		case 1:
			return out.kids[0]
		}
		return out
	case "OPERATOR_NOT":
		kids, _ := e["children"].([]any)
		if len(kids) != 1 {
			return nil
		}
		m, _ := kids[0].(map[string]any)
		return condition(m, t, alone, !neg)
	}
	p, ok := comparison(e, t, alone)
	if !ok {
		return nil
	}
	if neg {
		p.op = negated[p.op]
	}
	return &cond{pred: p}
}

// comparison reads e as a comparison of a column of table t with constants; alone
// says t is the only table of the FROM, so an unqualified column may be its.
func comparison(e, t map[string]any, alone bool) (predicate, bool) {
	col := func(x any) (string, bool) {
		m, _ := x.(map[string]any)
		if m == nil || m["class"] != "COLUMN_REF" {
			return "", false
		}
		names, _ := m["column_names"].([]any)
		switch len(names) {
		case 1:
			s, _ := names[0].(string)
			return strings.ToLower(s), alone
		case 2:
			q, _ := names[0].(string)
			s, _ := names[1].(string)
			return strings.ToLower(s), strings.EqualFold(q, bindingName(t))
		}
		return "", false
	}
	switch e["type"] {
	case "COMPARE_EQUAL", "COMPARE_NOTEQUAL", "COMPARE_LESSTHAN", "COMPARE_LESSTHANOREQUALTO", "COMPARE_GREATERTHAN", "COMPARE_GREATERTHANOREQUALTO":
		op := map[string]string{"COMPARE_EQUAL": "=", "COMPARE_NOTEQUAL": "<>", "COMPARE_LESSTHAN": "<", "COMPARE_LESSTHANOREQUALTO": "<=",
			"COMPARE_GREATERTHAN": ">", "COMPARE_GREATERTHANOREQUALTO": ">="}[e["type"].(string)]
		if name, ok := col(e["left"]); ok {
			if v, ok := constantOf(e["right"]); ok {
				return predicate{column: name, op: op, values: []constant{v}}, true
			}
		}
		if name, ok := col(e["right"]); ok {
			if v, ok := constantOf(e["left"]); ok {
				flipped := map[string]string{"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}[op]
				return predicate{column: name, op: flipped, values: []constant{v}}, true
			}
		}
	case "COMPARE_IN", "COMPARE_NOT_IN":
		kids, _ := e["children"].([]any)
		if len(kids) < 2 {
			return predicate{}, false
		}
		name, ok := col(kids[0])
		if !ok {
			return predicate{}, false
		}
		p := predicate{column: name, op: "in"}
		if e["type"] == "COMPARE_NOT_IN" {
			p.op = "notin"
		}
		for _, k := range kids[1:] {
			v, ok := constantOf(k)
			if !ok {
				return predicate{}, false
			}
			p.values = append(p.values, v)
		}
		return p, true
	case "COMPARE_BETWEEN":
		name, ok := col(e["input"])
		lo, okLo := constantOf(e["lower"])
		hi, okHi := constantOf(e["upper"])
		if ok && okLo && okHi {
			return predicate{column: name, op: "between", values: []constant{lo, hi}}, true
		}
	}
	return predicate{}, false
}

// bindingName is how the query names a FROM table's columns: its alias, else its name.
func bindingName(t map[string]any) string {
	if a, _ := t["alias"].(string); a != "" {
		return a
	}
	name, _ := t["table_name"].(string)
	return name
}

// castTypes are the types a constant may be cast to in a pruning comparison, by
// the parse tree's type id: for times, the fractional digits of seconds that the type
// keeps (DuckDB truncates more; a constant with more is not read, and a
// TIMESTAMP_NS is read to the microsecond of the columns it is compared with).
var castTypes = map[string]struct {
	kind    string
	zone    bool
	maxFrac int
}{
	"DATE": {kind: "date"}, "TIMESTAMP": {kind: "time", maxFrac: 6}, "TIMESTAMP WITH TIME ZONE": {kind: "time", zone: true, maxFrac: 6},
	"TIMESTAMP_NS": {kind: "time", maxFrac: 6}, "TIMESTAMP_MS": {kind: "time", maxFrac: 3}, "TIMESTAMP_S": {kind: "time"},
	"VARCHAR": {kind: "text"}, "TINYINT": {kind: "number"}, "SMALLINT": {kind: "number"}, "INTEGER": {kind: "number"},
	"BIGINT": {kind: "number"}, "HUGEINT": {kind: "number"},
}

// constantOf reads a constant of the parse tree: a string, an integer or a decimal,
// or a CAST of a string to a type of castTypes (or of an integer to an integer type);
// false for anything else.
func constantOf(x any) (constant, bool) {
	m, _ := x.(map[string]any)
	if m == nil {
		return constant{}, false
	}
	switch m["class"] {
	case "CAST":
		if try, _ := m["try_cast"].(bool); try {
			return constant{}, false
		}
		ct, _ := m["cast_type"].(map[string]any)
		id, _ := ct["id"].(string)
		typ, ok := castTypes[id]
		if !ok || ct["type_info"] != nil {
			return constant{}, false
		}
		inner, ok := constantOf(m["child"])
		if !ok {
			return constant{}, false
		}
		return castConstant(inner, typ.kind, typ.zone, typ.maxFrac)
	case "CONSTANT":
		v, _ := m["value"].(map[string]any)
		if null, _ := v["is_null"].(bool); null || v == nil {
			return constant{}, false
		}
		t, _ := v["type"].(map[string]any)
		id, _ := t["id"].(string)
		switch id {
		case "VARCHAR":
			s, ok := v["value"].(string)
			return constant{kind: "literal", s: s}, ok
		case "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT":
			num, _ := v["value"].(json.Number)
			n, ok := parseDecimal(num.String(), 0)
			return constant{kind: "number", n: n}, ok
		case "DECIMAL":
			info, _ := t["type_info"].(map[string]any)
			scale, _ := info["scale"].(json.Number)
			num, _ := v["value"].(json.Number)
			sc, err := strconv.Atoi(scale.String())
			n, ok := parseDecimal(num.String(), 0)
			if err != nil || !ok || sc < 0 {
				return constant{}, false
			}
			// The tree holds the unscaled digits: 150 of scale 2 is 1.50.
			r := new(big.Rat).SetFrac(n.rat().Num(), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(sc)), nil))
			return constant{kind: "number", n: number{r: r}}, true
		}
	}
	return constant{}, false
}

// castConstant is CAST(k AS a type of kind), as DuckDB casts it, where that is read.
func castConstant(k constant, kind string, zone bool, maxFrac int) (constant, bool) {
	switch {
	case kind == "text" && (k.kind == "literal" || k.kind == "text"):
		return constant{kind: "text", s: k.s}, true
	case kind == "number" && k.kind == "literal":
		n, ok := parseDecimal(k.s, 0)
		return constant{kind: "number", n: n}, ok
	case kind == "number" && k.kind == "number":
		// DuckDB rounds a fraction away: only an integer stays what it is.
		return k, k.n.r == nil || k.n.r.IsInt()
	case kind == "date" && k.kind == "literal":
		t, ok := parseDate(k.s)
		return constant{kind: "time", t: t}, ok
	case kind == "time" && k.kind == "literal":
		t, ok := parseTimestamp(k.s, zone, maxFrac)
		return constant{kind: "time", t: t}, ok
	}
	return constant{}, false
}
