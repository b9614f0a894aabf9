package silver

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/engine/sqlfrag"
	"github.com/lakectl/lakectl/pipeline"
)

// Columns that every Silver table carries besides its fields and enrichment columns.
// The lineage columns make the winner of a duplicate reproducible: a later run can rank
// a new row against a stored one exactly as if both had arrived in the same batch.
const (
	ColEventDate  = "event_date"
	ColEventHour  = "event_hour"
	ColIngestedAt = "_ingested_at"
	ColTopic      = "_topic"
	ColPartition  = "_partition"
	ColOffset     = "_offset"
	// ColMissingRefs, in a table with enrichments, names the reference tables (comma-
	// separated, in enrich: order) whose join found no row for the event's key, under
	// on_missing: keep; NULL when every join found one or had no key to look up. Such
	// rows wait for their dimension: Job.Reenrich fills them once it is loaded.
	ColMissingRefs = "_missing_refs"
)

// Columns of the compiled query that do not go to Silver.
const (
	colReason  = "_reason"  // NULL for a valid row, else why it was rejected
	colPayload = "_payload" // the raw payload, kept for rejected rows only
	colRank    = "_rank"    // 1 for the winner among valid rows of one key
)

// Column is one column of a Silver table.
type Column struct {
	Name     string
	DuckDB   string // DuckDB type
	Delta    string // Delta primitive type
	Nullable bool
}

// Contract is a Silver table declaration compiled to SQL.
type Contract struct {
	Table   pipeline.Table
	Columns []Column // Silver columns in order; the partition columns come last
	fields  []compiledField
}

type compiledField struct {
	pipeline.Field
	duck     sqlfrag.SQL // DuckDB type
	scale    int         // decimal places of a decimal
	min, max sqlfrag.SQL // the bounds, when set
	in       []sqlfrag.SQL
}

// Compile checks a Silver table declaration (already validated by the pipeline
// loader) and prepares its SQL.
func Compile(t pipeline.Table) (*Contract, error) {
	c := &Contract{Table: t}
	for _, f := range t.Fields {
		cf, err := compileField(f)
		if err != nil {
			return nil, fmt.Errorf("compile silver.%s: field %s: %w", t.Name, f.Name, err)
		}
		duck, _ := pipeline.DuckDBType(f.Type) // compileField checked it
		c.fields = append(c.fields, cf)
		c.Columns = append(c.Columns, Column{Name: f.Name, DuckDB: duck, Delta: deltaType(f.Type), Nullable: !f.Required})
	}
	for _, e := range t.Enrich {
		for _, col := range e.Columns {
			// Reference columns keep the type they have in the reference table; the
			// writer takes the type from the query result.
			c.Columns = append(c.Columns, Column{Name: col, Nullable: true})
		}
	}
	if len(t.Enrich) > 0 {
		c.Columns = append(c.Columns, Column{Name: ColMissingRefs, DuckDB: "VARCHAR", Delta: "string", Nullable: true})
	}
	c.Columns = append(c.Columns,
		Column{Name: ColIngestedAt, DuckDB: "TIMESTAMPTZ", Delta: "timestamp"},
		Column{Name: ColTopic, DuckDB: "VARCHAR", Delta: "string", Nullable: true},
		Column{Name: ColPartition, DuckDB: "INTEGER", Delta: "integer"},
		Column{Name: ColOffset, DuckDB: "BIGINT", Delta: "long"},
		Column{Name: ColEventDate, DuckDB: "DATE", Delta: "date"},
		Column{Name: ColEventHour, DuckDB: "INTEGER", Delta: "integer"},
	)
	return c, nil
}

// compileField turns a field's type, bounds and allowed values into SQL fragments,
// refusing what has no exact SQL form (a NaN bound).
func compileField(f pipeline.Field) (compiledField, error) {
	cf := compiledField{Field: f}
	switch f.Type {
	case "string":
		cf.duck = sqlfrag.Const("VARCHAR")
	case "int":
		cf.duck = sqlfrag.Const("BIGINT")
	case "double":
		cf.duck = sqlfrag.Const("DOUBLE")
	case "boolean":
		cf.duck = sqlfrag.Const("BOOLEAN")
	case "timestamp":
		cf.duck = sqlfrag.Const("TIMESTAMPTZ")
	case "date":
		cf.duck = sqlfrag.Const("DATE")
	default:
		p, s, ok := pipeline.DecimalParams(f.Type)
		if !ok {
			return cf, fmt.Errorf("unknown type %q", f.Type)
		}
		cf.duck, cf.scale = sqlfrag.Decimal(p, s), s
	}
	if strings.ContainsAny(f.JSONKey(), "\"\\") {
		return cf, fmt.Errorf("JSON key %q may not hold quotes or backslashes", f.JSONKey())
	}
	var err error
	if f.Min != nil {
		if cf.min, err = sqlfrag.Float(*f.Min); err != nil {
			return cf, fmt.Errorf("min: %w", err)
		}
	}
	if f.Max != nil {
		if cf.max, err = sqlfrag.Float(*f.Max); err != nil {
			return cf, fmt.Errorf("max: %w", err)
		}
	}
	for _, a := range f.In {
		if f.Type != "int" {
			cf.in = append(cf.in, sqlfrag.Str(a))
			continue
		}
		n, err := strconv.ParseInt(a, 10, 64)
		if err != nil {
			return cf, fmt.Errorf("allowed value %q is not an integer", a)
		}
		cf.in = append(cf.in, sqlfrag.Int(n))
	}
	return cf, nil
}

// PartitionColumns are the Silver table's partition columns, in path order.
func (c *Contract) PartitionColumns() []string { return []string{ColEventDate, ColEventHour} }

// Key returns the key fields.
func (c *Contract) Key() []string { return c.Table.Key }

// orderBy is the ranking of duplicates: the first row wins. It uses only stored
// columns, so the same ranking applies to rows already in Silver.
func (c *Contract) orderBy() []string {
	return []string{c.Table.EventTime, ColIngestedAt, ColTopic, ColPartition, ColOffset}
}

func deltaType(t string) string {
	switch t {
	case "string":
		return "string"
	case "int":
		return "long"
	case "double":
		return "double"
	case "boolean":
		return "boolean"
	case "timestamp":
		return "timestamp"
	case "date":
		return "date"
	default: // decimal(p,s)
		return strings.ReplaceAll(t, " ", "")
	}
}

// structType is the json_transform type of the payload: every field at its JSON key,
// as JSON, so that one parse keeps each value's JSON type for the strict conversion
// (see convert.go). It is JSON, so keys are escaped by encoding/json.
func (c *Contract) structType() sqlfrag.SQL {
	var b strings.Builder
	b.WriteByte('{')
	for i, f := range c.fields {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.JSONKey())
		b.Write(k)
		b.WriteString(`:"JSON"`)
	}
	b.WriteByte('}')
	return sqlfrag.Str(b.String())
}

// Refs names the relation that holds each reference table in the session.
type Refs func(name string) sqlfrag.SQL

// Query returns the one query that turns Bronze rows into Silver rows: it decodes each
// payload once with json_transform into a struct of JSON values, converts each field
// strictly (see convert.go), checks
// required fields and checks, joins the reference tables, derives the partition
// columns, and ranks duplicates. src is a relation with Bronze's columns (payload,
// topic, partition, offset, ingested_at).
//
// Its columns are the Silver columns (Columns) followed by _reason (NULL when the row
// is valid), _payload (the raw payload of rejected rows) and _rank (1 for the winner
// of each key among valid rows). Nothing is filtered out: the caller splits valid rows
// from rejected ones, so no row is lost silently.
func (c *Contract) Query(src sqlfrag.SQL, refs Refs) sqlfrag.SQL {
	var b sqlfrag.Builder
	id, k := sqlfrag.Ident, sqlfrag.Const
	b.Line(0, k("WITH "), id("decoded"), k(" AS ("))
	b.Line(1, k("SELECT TRY(decode("), id("payload"), k(")) AS "), colText, k(", "),
		id("payload"), k(" AS "), colRaw, k(", "),
		id("topic"), k(" AS "), id(ColTopic), k(", "),
		id("partition"), k(" AS "), id(ColPartition), k(", "),
		id("offset"), k(" AS "), id(ColOffset), k(", "),
		id("ingested_at"), k(" AS "), id(ColIngestedAt))
	b.Line(1, k("FROM "), src)
	b.Line(0, k("), "), id("strict"), k(" AS ("))
	// DuckDB's JSON reader takes trailing commas and NaN, and reads a repeated key as
	// its first value; the strict check refuses them and says why (see
	// engine.JSONProblemFunc).
	b.Line(1, k("SELECT *, "), engine.JSONProblemSQL(colText), k(" AS "), colProblem)
	b.Line(1, k("FROM "), id("decoded"))
	b.Line(0, k("), "), id("parsed"), k(" AS ("))
	// The strict check guards json_transform, which fails the whole query on malformed
	// input; TRY() would catch that too but falls back to row-at-a-time evaluation for
	// every chunk that holds one bad row, which costs ten times more.
	b.Line(1, k("SELECT *, CASE WHEN "), colProblem, k(" IS NULL THEN json_transform("),
		colText, k(", "), c.structType(), k(") END AS "), colJSON)
	b.Line(1, k("FROM "), id("strict"))
	b.Line(0, k("), "), id("typed"), k(" AS ("))
	types := []sqlfrag.SQL{k("*")}
	for _, f := range c.fields {
		types = append(types, sqlfrag.Fmt("json_type(%s) AS %s", jsonValue(f), jsonTypeCol(f)))
	}
	b.Line(1, k("SELECT "), sqlfrag.List(types...))
	b.Line(1, k("FROM "), id("parsed"))
	b.Line(0, k("), "), id("converted"), k(" AS ("))
	b.Line(1, k("SELECT *,"))
	for i, f := range c.fields {
		sep := k(",")
		if i == len(c.fields)-1 {
			sep = sqlfrag.SQL{}
		}
		b.Line(2, converted(f), k(" AS "), valueCol(f), sep)
	}
	b.Line(1, k("FROM "), id("typed"))
	b.Line(0, k("), "), id("enriched"), k(" AS ("))
	c.enrich(&b, refs, enrichInput{from: id("converted"), value: valueCol})
	b.Line(0, k("), "), id("checked"), k(" AS ("))
	b.Line(1, k("SELECT *, "), c.reason(), k(" AS "), id(colReason))
	b.Line(1, k("FROM "), id("enriched"))
	b.Line(0, k("), "), id("kept"), k(" AS ("))
	// The raw payload is dropped from valid rows here, below the ranking: the window
	// holds every row it ranks, and a payload is most of a row's bytes.
	b.Line(1, k("SELECT * EXCLUDE ("), colRaw, k("), CASE WHEN "), id(colReason), k(" IS NOT NULL THEN "),
		colRaw, k(" END AS "), id(colPayload))
	b.Line(1, k("FROM "), id("checked"))
	b.Line(0, k(")"))
	b.Line(0, k("SELECT"))
	for _, f := range c.fields {
		b.Line(1, valueCol(f), k(" AS "), id(f.Name), k(","))
	}
	for _, e := range c.Table.Enrich {
		for _, col := range e.Columns {
			b.Line(1, id(col), k(","))
		}
	}
	if len(c.Table.Enrich) > 0 {
		b.Line(1, c.missingRefs(valueCol), k(" AS "), id(ColMissingRefs), k(","))
	}
	b.Line(1, id(ColIngestedAt), k(", "), id(ColTopic), k(", "), id(ColPartition), k(", "), id(ColOffset), k(","))
	eventTime := valueCol(c.field(c.Table.EventTime))
	b.Line(1, k("CAST("), eventTime, k(" AT TIME ZONE 'UTC' AS DATE) AS "), id(ColEventDate), k(","))
	b.Line(1, k("CAST(hour("), eventTime, k(" AT TIME ZONE 'UTC') AS INTEGER) AS "), id(ColEventHour), k(","))
	b.Line(1, id(colReason), k(","))
	b.Line(1, id(colPayload), k(","))
	var key []sqlfrag.SQL
	for _, name := range c.Table.Key {
		key = append(key, valueCol(c.field(name)))
	}
	order := []sqlfrag.SQL{eventTime}
	for _, o := range c.orderBy()[1:] {
		order = append(order, rankColumn(sqlfrag.SQL{}, o))
	}
	b.Line(1, k("row_number() OVER (PARTITION BY ("), id(colReason), k(" IS NULL), "), sqlfrag.List(key...),
		k(" ORDER BY "), sqlfrag.List(order...), k(") AS "), id(colRank))
	b.Line(0, k("FROM "), id("kept"))
	return b.SQL()
}

// Columns of the compiled query's steps that do not reach its result.
var (
	colText    = sqlfrag.Ident("_text")    // the payload as text, NULL when not UTF-8
	colRaw     = sqlfrag.Ident("_raw")     // the payload as it came
	colProblem = sqlfrag.Ident("_problem") // what is wrong with the payload as JSON
	colJSON    = sqlfrag.Ident("_j")       // the struct of the fields' JSON values
)

// rankColumn is a ranking column of alias (none: the current row). HTTP rows have no
// topic and rank before Kafka rows, in a batch (the query's row_number) as against
// stored rows (rankRow), so that both pick the same winner.
func rankColumn(alias sqlfrag.SQL, col string) sqlfrag.SQL {
	c := sqlfrag.Ident(col)
	if !alias.IsZero() {
		c = sqlfrag.Fmt("%s.%s", alias, c)
	}
	if col == ColTopic {
		return sqlfrag.Fmt("coalesce(%s, '')", c)
	}
	return c
}

func (c *Contract) field(name string) compiledField {
	for _, f := range c.fields {
		if f.Name == name {
			return f
		}
	}
	panic("silver: contract has no field " + name) // Compile and the loader rule this out
}

// refAlias is the alias of the i-th enrichment's join.
func refAlias(i int) sqlfrag.SQL { return sqlfrag.Fmt("r%s", sqlfrag.Int(int64(i))) }

// matchedCol says whether the i-th enrichment's join found a row.
func matchedCol(i int) sqlfrag.SQL { return sqlfrag.Ident("_m" + strconv.Itoa(i)) }

// Columns of an enrichment's reference relation, as its join reads them.
var (
	refKeyCol  = sqlfrag.Ident("_k") // the reference key, cast to the join field's type
	refFromCol = sqlfrag.Ident("_f") // start of validity, -infinity for since ever
	refToCol   = sqlfrag.Ident("_t") // end of validity, NULL for open
)

// enrichInput is what the enriched step reads.
type enrichInput struct {
	from  sqlfrag.SQL                       // the relation of rows to enrich
	value func(f compiledField) sqlfrag.SQL // the column of a field's typed value in from
	// redo, when set, is the condition under which enrichment i joins again (a row
	// waiting for that reference); other rows keep the enrichment columns they have,
	// and from's enrichment columns are replaced.
	redo func(i int) sqlfrag.SQL
}

// enrich writes the SELECT of the enriched step: one join per enrichment, with a flag
// per join that says whether it found a row (see joinRef).
func (c *Contract) enrich(b *sqlfrag.Builder, refs Refs, in enrichInput) {
	k := sqlfrag.Const
	head := k("p.*")
	if in.redo != nil {
		var old []sqlfrag.SQL
		for _, e := range c.Table.Enrich {
			for _, col := range e.Columns {
				old = append(old, sqlfrag.Ident(col))
			}
		}
		head = sqlfrag.Fmt("p.* EXCLUDE (%s), p.%s AS %s", sqlfrag.List(append(old, sqlfrag.Ident(ColMissingRefs))...),
			sqlfrag.Ident(ColMissingRefs), colWasMissing)
	}
	sel := []sqlfrag.SQL{head}
	for i, e := range c.Table.Enrich {
		hit := found(i)
		for _, col := range e.Columns {
			v := sqlfrag.Fmt("%s.%s", refAlias(i), sqlfrag.Ident(col))
			if in.redo != nil {
				v = sqlfrag.Fmt("CASE WHEN %s THEN %s ELSE p.%s END", in.redo(i), v, sqlfrag.Ident(col))
			}
			sel = append(sel, sqlfrag.Fmt("%s AS %s", v, sqlfrag.Ident(col)))
		}
		if in.redo != nil {
			hit = sqlfrag.Fmt("(NOT %s OR %s)", in.redo(i), hit)
		}
		sel = append(sel, sqlfrag.Fmt("%s AS %s", hit, matchedCol(i)))
	}
	b.Line(1, k("SELECT "), sqlfrag.List(sel...))
	b.Line(1, k("FROM "), in.from, k(" p"))
	for i, e := range c.Table.Enrich {
		c.joinRef(b, refs, in, i, e)
	}
}

// joinRef writes the join of enrichment i. At the current time it joins the
// reference's current rows, deduplicated on the key (so a repeated key cannot
// multiply events); at the event time, the row of the key whose validity holds the
// event's time: valid_from <= event time < valid_to, one row at most, since a load
// refuses overlapping validity (see LoadRef).
func (c *Contract) joinRef(b *sqlfrag.Builder, refs Refs, in enrichInput, i int, e pipeline.Enrich) {
	k := sqlfrag.Const
	alias, on := refAlias(i), c.field(e.On)
	cols := make([]sqlfrag.SQL, len(e.Columns))
	for j, col := range e.Columns {
		cols[j] = sqlfrag.Ident(col)
	}
	refKey := sqlfrag.Fmt("TRY_CAST(%s AS %s)", sqlfrag.Ident(e.RefKey), on.duck)
	if e.AsOf == pipeline.AsOfEventTime {
		// The bounds are made finite-or-infinite rather than NULL so that the join
		// condition is a key equality and two comparisons, which DuckDB runs as a hash
		// join on the key; an OR in it would make a nested loop.
		et := in.value(c.field(c.Table.EventTime))
		b.Line(1, k("LEFT JOIN ("))
		b.Line(2, k("SELECT "), refKey, k(" AS "), refKeyCol,
			k(", coalesce("), sqlfrag.Ident(RefColValidFrom), k(", '-infinity'::TIMESTAMPTZ) AS "), refFromCol,
			k(", coalesce("), sqlfrag.Ident(RefColValidTo), k(", 'infinity'::TIMESTAMPTZ) AS "), refToCol,
			k(", "), sqlfrag.List(cols...))
		b.Line(2, k("FROM "), refs(e.Ref))
		b.Line(1, k(") "), alias, k(" ON "), alias, k("."), refKeyCol, k(" = p."), in.value(on),
			k(" AND p."), et, k(" >= "), alias, k("."), refFromCol, k(" AND p."), et, k(" < "), alias, k("."), refToCol)
		return
	}
	b.Line(1, k("LEFT JOIN ("))
	b.Line(2, k("SELECT "), refKey, k(" AS "), refKeyCol, k(", "), sqlfrag.List(cols...))
	b.Line(2, k("FROM "), refs(e.Ref), k(" WHERE "), sqlfrag.Ident(RefColValidTo), k(" IS NULL"))
	b.Line(2, k("QUALIFY row_number() OVER (PARTITION BY "), refKey, k(" ORDER BY "), sqlfrag.List(cols...), k(") = 1"))
	b.Line(1, k(") "), alias, k(" ON "), alias, k("."), refKeyCol, k(" = p."), in.value(on))
}

// found is the condition that enrichment i's join found a row for the event.
func found(i int) sqlfrag.SQL { return sqlfrag.Fmt("(%s.%s IS NOT NULL)", refAlias(i), refKeyCol) }

// missingRefs is the expression of ColMissingRefs: the references of on_missing: keep
// enrichments whose join found no row for a key that is there.
func (c *Contract) missingRefs(value func(f compiledField) sqlfrag.SQL) sqlfrag.SQL {
	var names []sqlfrag.SQL
	for i, e := range c.Table.Enrich {
		if e.OnMissing != pipeline.MissingKeep {
			continue
		}
		names = append(names, sqlfrag.Fmt("CASE WHEN %s IS NOT NULL AND NOT %s THEN %s END",
			value(c.field(e.On)), matchedCol(i), sqlfrag.Str(e.Ref)))
	}
	if len(names) == 0 {
		return sqlfrag.Const("CAST(NULL AS VARCHAR)")
	}
	return sqlfrag.Fmt("nullif(concat_ws(',', %s), '')", sqlfrag.List(names...))
}

// reason is the expression that says why a row is rejected, or NULL. Every field is
// checked and the problems are joined, so one look at a quarantined row says all that
// is wrong with it.
func (c *Contract) reason() sqlfrag.SQL {
	var problems []sqlfrag.SQL
	for _, f := range c.fields {
		problems = append(problems, fieldReason(f))
	}
	for i, e := range c.Table.Enrich {
		if e.OnMissing != pipeline.MissingQuarantine {
			continue
		}
		on := c.field(e.On)
		v := valueCol(on)
		problems = append(problems, sqlfrag.Fmt("CASE WHEN %s IS NOT NULL AND NOT %s THEN %s || %s END",
			v, matchedCol(i), sqlfrag.Str(e.Ref+": no row for "+e.On+" "), shown(on, v)))
	}
	// One problem per line, so the generated SQL reads field by field.
	return sqlfrag.Fmt("CASE WHEN %s IS NULL THEN %s WHEN %s IS NOT NULL THEN %s || %s ELSE nullif(concat_ws('; ',\n    %s\n  ), '') END",
		colText, sqlfrag.Str("payload: not valid UTF-8"),
		colProblem, sqlfrag.Str("payload: "), colProblem,
		sqlfrag.Join(problems, ",\n    "))
}

// shown is a field's typed value v as a reason shows it: strings JSON-quoted, so that
// an empty string or a trailing space can be seen.
func shown(f compiledField, v sqlfrag.SQL) sqlfrag.SQL {
	if f.Type == "string" {
		return sqlfrag.Fmt("CAST(to_json(%s) AS VARCHAR)", v)
	}
	return sqlfrag.Fmt("CAST(%s AS VARCHAR)", v)
}

// fieldReason checks one field: a converted value runs the checks; an absent or null
// one is fine unless required; any other value did not convert, and problem says why.
func fieldReason(f compiledField) sqlfrag.SQL {
	missing := sqlfrag.Const("NULL")
	if f.Required {
		missing = sqlfrag.Str(f.Name + ": missing")
	}
	present := sqlfrag.Const("NULL")
	if checks := checks(f, valueCol(f)); !checks.IsZero() {
		present = checks
	}
	return sqlfrag.Fmt("CASE WHEN %s IS NOT NULL THEN %s WHEN %s IS NULL THEN %s ELSE %s END",
		valueCol(f), present, jsonTypeCol(f), missing, problem(f))
}

// checks returns a CASE that names the first check v fails, or nothing if f has none.
func checks(f compiledField, v sqlfrag.SQL) sqlfrag.SQL {
	value := sqlfrag.Fmt("%s || %s", sqlfrag.Str(f.Name+": "), shown(f, v))
	var whens []sqlfrag.SQL
	if !f.min.IsZero() {
		whens = append(whens, sqlfrag.Fmt("WHEN %s < %s THEN %s || %s", v, f.min, value, sqlfrag.Str(" is below the minimum "+f.min.String())))
	}
	if !f.max.IsZero() {
		whens = append(whens, sqlfrag.Fmt("WHEN %s > %s THEN %s || %s", v, f.max, value, sqlfrag.Str(" is above the maximum "+f.max.String())))
	}
	if len(f.In) > 0 {
		quoted := make([]string, len(f.In))
		for i, a := range f.In {
			quoted[i] = a
			if f.Type == "string" {
				quoted[i] = engine.QuoteJSON(a)
			}
		}
		whens = append(whens, sqlfrag.Fmt("WHEN %s NOT IN (%s) THEN %s || %s", v, sqlfrag.List(f.in...), value,
			sqlfrag.Str(" is not one of "+strings.Join(quoted, ", "))))
	}
	if f.Pattern != "" {
		whens = append(whens, sqlfrag.Fmt("WHEN NOT regexp_matches(%s, %s) THEN %s || %s", v, sqlfrag.Str(f.Pattern), value,
			sqlfrag.Str(" does not match "+f.Pattern)))
	}
	if len(whens) == 0 {
		return sqlfrag.SQL{}
	}
	return sqlfrag.Fmt("CASE %s END", sqlfrag.Join(whens, " "))
}
