package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/lakectl/lakectl/engine/sqlfrag"
	"github.com/lakectl/lakectl/lake"
)

// Pruning: before a table's files are fetched, its Delta log says which ones the query
// can need. ParseUserSQL keeps, for every scan of a table in the SQL (each FROM or
// JOIN that names it), the comparisons of the WHERE clause around it that compare one
// of its columns with a constant: =, <, <=, >, >=, IN and BETWEEN, in a conjunction
// (AND) at the top of the clause. Prune then asks DuckDB, over a small VALUES table of
// each file's partition values and min/max statistics, which files could hold a row
// that passes them; the others are not fetched.
//
// Pruning must never change a result, so in doubt a file is kept: a scan with no such
// comparison (or under a kind of join where fewer rows on one side give more rows, an
// ASOF or POSITIONAL join, or sampled) keeps every file; a file without statistics for
// a column, or with statistics DuckDB cannot read as the column's type, is kept; FLOAT
// and DOUBLE statistics are not used (NaN is outside them), a string maximum as long as
// the truncation writers apply (32 characters) is not used, and timestamp statistics,
// which writers store in milliseconds, are widened by a millisecond on each side.
// Comparisons in WHERE are false or NULL for a NULL column, so they drop the rows a
// pruned file would have given even on the outer side of a join.
//
//	q, err := sess.ParseUserSQL(ctx, sql)
//	adds, report, err := sess.Prune(ctx, q, name, snap, snap.Files())
//	err = sess.RegisterFiles(ctx, name.Schema, name.Name, snap, adds, files)

// scan is one scan of a table in user SQL: the comparisons that its rows must pass, nil
// when none can be used (every file is kept).
type scan struct {
	preds []predicate
}

// predicate is `column op values`: op is one of = < <= > >= in between; values are SQL
// constants built from the parse tree (Literal, numbers, CAST to a known type).
type predicate struct {
	column string // lower case
	op     string
	values []constant
}

// constant is a constant of a comparison, as SQL, and its kind: a string literal
// takes the column's type; a number, a time or a cast to VARCHAR compares in its own
// kind, so it prunes only a column of that kind, where the order of the column's
// values is the order of the comparison ('10' < '9' as strings, not as numbers).
type constant struct {
	sql  string
	kind string // "literal", "number", "time" or "text"
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
	byName := map[string]viewColumn{}
	for _, c := range cols {
		byName[strings.ToLower(c.name)] = c
	}
	// A file is kept when some scan may read it: OR over the scans, AND within one.
	var (
		ors  []string
		used = map[string]bool{}
	)
	for _, sc := range scans {
		var ands []string
		for _, p := range sc.preds {
			c, ok := byName[p.column]
			if !ok {
				continue // not a column of this table (an outer query's, or an alias)
			}
			if cond := predicateSQL(c, p); cond != "" {
				ands = append(ands, cond)
				used[c.name] = true
			}
		}
		if len(ands) == 0 {
			return keep(adds)
		}
		ors = append(ors, "("+strings.Join(ands, " AND ")+")")
	}
	stats, err := fileBounds(adds, cols, used)
	if err != nil {
		return nil, rep, err
	}
	query := "SELECT " + ident(fileIndexCol) + " FROM (" + boundsValues(cols, used, adds, stats) + ") WHERE " + strings.Join(ors, " OR ")
	rows, err := s.conn.QueryContext(ctx, query)
	if err != nil {
		// A constant DuckDB cannot compare with the column: the query itself will say
		// so. Keep every file, and let it.
		s.log.Debug("prune: keep every file", "table", n.String(), "err", err)
		return keep(adds)
	}
	defer rows.Close()
	var idx []int
	for rows.Next() {
		var i int
		if err := rows.Scan(&i); err != nil {
			return nil, rep, fmt.Errorf("prune %s: %w", n, err)
		}
		idx = append(idx, i)
	}
	if err := rows.Err(); err != nil {
		return nil, rep, fmt.Errorf("prune %s: %w", n, err)
	}
	slices.Sort(idx) // the log's order, whatever order DuckDB returns the rows in
	kept := make([]lake.Add, 0, len(idx))
	for _, i := range idx {
		kept = append(kept, adds[i])
	}
	for c := range used {
		rep.Columns = append(rep.Columns, c)
	}
	slices.Sort(rep.Columns)
	return keep(kept)
}

// Names of the columns of the bounds table, per table column: its lower and upper
// bound in a file, as text.
func loCol(c viewColumn) string { return "lo_" + c.name }
func hiCol(c viewColumn) string { return "hi_" + c.name }

// predicateSQL is the condition on a file's bounds under which it may hold a row
// that passes p; "" when p cannot prune this column.
func predicateSQL(c viewColumn, p predicate) string {
	if !c.partition && !statsUsable(c.duckType.String()) {
		return ""
	}
	kind := typeKind(c.duckType.String())
	v := make([]string, len(p.values))
	for i, x := range p.values {
		if x.kind != "literal" && x.kind != kind {
			return ""
		}
		v[i] = x.sql
	}
	lo, hi := cast(ident(loCol(c)), c.duckType.String()), cast(ident(hiCol(c)), c.duckType.String())
	lo, hi = "TRY_"+lo, "TRY_"+hi
	if !c.partition && isTimestamp(c.duckType.String()) {
		lo, hi = "("+lo+" - INTERVAL 1 MILLISECOND)", "("+hi+" + INTERVAL 1 MILLISECOND)"
	}
	var cond string
	switch p.op {
	case "=":
		cond = lo + " <= " + v[0] + " AND " + hi + " >= " + v[0]
	case "<", "<=":
		cond = lo + " " + p.op + " " + v[0]
	case ">", ">=":
		cond = hi + " " + p.op + " " + v[0]
	case "between":
		cond = hi + " >= " + v[0] + " AND " + lo + " <= " + v[1]
	case "in":
		var ors []string
		for _, x := range v {
			ors = append(ors, "("+lo+" <= "+x+" AND "+hi+" >= "+x+")")
		}
		cond = strings.Join(ors, " OR ")
	default:
		return ""
	}
	if c.partition {
		// A null partition holds only NULLs, which no comparison passes; a value that
		// does not read as the type is kept (the view will say what is wrong).
		return "CASE WHEN " + ident(loCol(c)) + " IS NULL THEN false ELSE COALESCE(" + cond + ", true) END"
	}
	return "COALESCE(" + cond + ", true)"
}

// statsUsable reports whether min/max statistics of a column of this type bound its
// values: not floats (NaN), not nested types, booleans or binary.
func statsUsable(duckType string) bool {
	t := strings.ToUpper(duckType)
	switch {
	case strings.HasPrefix(t, "DECIMAL"):
		return true
	case isTimestamp(t):
		return true
	}
	switch t {
	case "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "DATE", "VARCHAR":
		return true
	}
	return false
}

// typeKind is the kind of constant a column of this type compares with in its own
// order: see constant.
func typeKind(duckType string) string {
	t := strings.ToUpper(duckType)
	switch {
	case strings.HasPrefix(t, "DECIMAL"), slices.Contains([]string{"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
		"UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE"}, t):
		return "number"
	case t == "DATE" || isTimestamp(t):
		return "time"
	case t == "VARCHAR":
		return "text"
	}
	return "other"
}

func isTimestamp(duckType string) bool {
	return strings.HasPrefix(strings.ToUpper(duckType), "TIMESTAMP")
}

// bounds are one file's lower and upper bound of a column, as text; nil for unknown.
type bounds struct{ lo, hi *string }

// stringStatsLimit is the length at which writers (Spark, delta-rs) truncate string
// statistics; a maximum that long may be below the real one.
const stringStatsLimit = 32

// fileBounds reads, for each file, the bounds of the used columns: the partition
// value, or the min and max of its statistics.
func fileBounds(adds []lake.Add, cols []viewColumn, used map[string]bool) ([]map[string]bounds, error) {
	out := make([]map[string]bounds, len(adds))
	for i, a := range adds {
		out[i] = map[string]bounds{}
		var st struct {
			Min map[string]json.RawMessage `json:"minValues"`
			Max map[string]json.RawMessage `json:"maxValues"`
		}
		if a.Stats != "" {
			// Stats a writer got wrong only cost pruning for that file.
			_ = json.Unmarshal([]byte(a.Stats), &st)
		}
		for _, c := range cols {
			if !used[c.name] {
				continue
			}
			if c.partition {
				v := a.PartitionValues[c.name]
				if v != nil && *v == "" {
					v = nil // the protocol: an empty string is a null partition
				}
				out[i][c.name] = bounds{lo: v, hi: v}
				continue
			}
			b := bounds{lo: statText(st.Min[c.name]), hi: statText(st.Max[c.name])}
			if b.hi != nil && strings.EqualFold(c.duckType.String(), "VARCHAR") && utf8.RuneCountInString(*b.hi) >= stringStatsLimit {
				b.hi = nil
			}
			out[i][c.name] = b
		}
	}
	return out, nil
}

// statText is a statistic as text: a string's value, a number's digits; nil for
// anything else (nested columns' objects, null).
func statText(raw json.RawMessage) *string {
	if len(raw) == 0 {
		return nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return &s
	}
	t := strings.TrimSpace(string(raw))
	if numberRe.MatchString(t) {
		return &t
	}
	return nil
}

var numberRe = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$`)

// boundsValues is the VALUES table (file index, lo and hi of each used column, as
// VARCHAR) that the pruning condition reads.
func boundsValues(cols []viewColumn, used map[string]bool, adds []lake.Add, stats []map[string]bounds) string {
	text := func(p *string) string {
		if p == nil {
			return "CAST(NULL AS VARCHAR)"
		}
		return literal(*p)
	}
	var b strings.Builder
	b.WriteString("SELECT * FROM (VALUES ")
	for i := range adds {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "(%d", i)
		for _, c := range cols {
			if used[c.name] {
				bd := stats[i][c.name]
				b.WriteString(", " + text(bd.lo) + ", " + text(bd.hi))
			}
		}
		b.WriteByte(')')
	}
	b.WriteString(") AS v(" + ident(fileIndexCol))
	for _, c := range cols {
		if used[c.name] {
			b.WriteString(", " + ident(loCol(c)) + ", " + ident(hiCol(c)))
		}
	}
	b.WriteString(")")
	return b.String()
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

// selectNode records the WHERE comparisons of a SELECT for the tables its FROM scans.
func (c *scanCollector) selectNode(n map[string]any) {
	where, _ := n["where_clause"].(map[string]any)
	if where == nil || n["sample"] != nil {
		return // USING SAMPLE draws from the rows before WHERE
	}
	var tables []map[string]any
	if !fromTables(n["from_table"], &tables) || len(tables) == 0 {
		return
	}
	conjuncts := flattenAnd(where, nil)
	// An unqualified column is the table's only when the FROM is that table alone.
	from, _ := n["from_table"].(map[string]any)
	alone := from["type"] == "BASE_TABLE"
	for _, t := range tables {
		var preds []predicate
		for _, cj := range conjuncts {
			if p, ok := comparison(cj, t, alone); ok {
				preds = append(preds, p)
			}
		}
		if len(preds) > 0 {
			c.filtered[nodeID(t)] = scan{preds: preds}
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

// flattenAnd lists the conjuncts of an expression.
func flattenAnd(e map[string]any, out []map[string]any) []map[string]any {
	if e["type"] == "CONJUNCTION_AND" {
		kids, _ := e["children"].([]any)
		for _, k := range kids {
			if m, ok := k.(map[string]any); ok {
				out = flattenAnd(m, out)
			}
		}
		return out
	}
	return append(out, e)
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
	case "COMPARE_EQUAL", "COMPARE_LESSTHAN", "COMPARE_LESSTHANOREQUALTO", "COMPARE_GREATERTHAN", "COMPARE_GREATERTHANOREQUALTO":
		op := map[string]string{"COMPARE_EQUAL": "=", "COMPARE_LESSTHAN": "<", "COMPARE_LESSTHANOREQUALTO": "<=",
			"COMPARE_GREATERTHAN": ">", "COMPARE_GREATERTHANOREQUALTO": ">="}[e["type"].(string)]
		if name, ok := col(e["left"]); ok {
			if v, ok := constantSQL(e["right"]); ok {
				return predicate{column: name, op: op, values: []constant{v}}, true
			}
		}
		if name, ok := col(e["right"]); ok {
			if v, ok := constantSQL(e["left"]); ok {
				flipped := map[string]string{"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}[op]
				return predicate{column: name, op: flipped, values: []constant{v}}, true
			}
		}
	case "COMPARE_IN":
		kids, _ := e["children"].([]any)
		if len(kids) < 2 {
			return predicate{}, false
		}
		name, ok := col(kids[0])
		if !ok {
			return predicate{}, false
		}
		p := predicate{column: name, op: "in"}
		for _, k := range kids[1:] {
			v, ok := constantSQL(k)
			if !ok {
				return predicate{}, false
			}
			p.values = append(p.values, v)
		}
		return p, true
	case "COMPARE_BETWEEN":
		name, ok := col(e["input"])
		lo, okLo := constantSQL(e["lower"])
		hi, okHi := constantSQL(e["upper"])
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
// the parse tree's type id.
var castTypes = map[string]string{
	"DATE": "DATE", "TIMESTAMP": "TIMESTAMP", "TIMESTAMP WITH TIME ZONE": "TIMESTAMPTZ",
	"TIMESTAMP_NS": "TIMESTAMP_NS", "TIMESTAMP_MS": "TIMESTAMP_MS", "TIMESTAMP_S": "TIMESTAMP_S",
	"VARCHAR": "VARCHAR", "TINYINT": "TINYINT", "SMALLINT": "SMALLINT", "INTEGER": "INTEGER",
	"BIGINT": "BIGINT", "HUGEINT": "HUGEINT",
}

// constantSQL writes a constant of the parse tree as SQL: a string, an integer or a
// decimal literal, or a CAST of one to a type of castTypes; false for anything else.
func constantSQL(x any) (constant, bool) {
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
		inner, ok := constantSQL(m["child"])
		if !ok {
			return constant{}, false
		}
		return constant{sql: cast(inner.sql, typ), kind: typeKind(typ)}, true
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
			return constant{sql: literal(s), kind: "literal"}, ok
		case "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT":
			num, ok := v["value"].(json.Number)
			if !ok || !integerRe.MatchString(num.String()) {
				return constant{}, false
			}
			return constant{sql: num.String(), kind: "number"}, true
		case "DECIMAL":
			info, _ := t["type_info"].(map[string]any)
			scale, _ := info["scale"].(json.Number)
			num, ok := v["value"].(json.Number)
			sc, err := strconv.Atoi(scale.String())
			if !ok || err != nil || !integerRe.MatchString(num.String()) {
				return constant{}, false
			}
			return constant{sql: decimalLiteral(num.String(), sc), kind: "number"}, true
		}
	}
	return constant{}, false
}

var integerRe = regexp.MustCompile(`^-?[0-9]+$`)

// decimalLiteral writes the unscaled digits of a decimal with its point: 25, 1 → 2.5.
func decimalLiteral(digits string, scale int) string {
	neg := strings.HasPrefix(digits, "-")
	digits = strings.TrimPrefix(digits, "-")
	if scale > 0 {
		if len(digits) <= scale {
			digits = strings.Repeat("0", scale-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	}
	if neg {
		return "-" + digits
	}
	return digits
}

// The prune query is assembled as text from these, over names lakectl chose and
// constants that constantSQL checked (quoted strings, digits, casts to castTypes).
func ident(name string) string     { return sqlfrag.Ident(name).String() }
func literal(s string) string      { return sqlfrag.Str(s).String() }
func cast(expr, typ string) string { return "CAST(" + expr + " AS " + typ + ")" }
