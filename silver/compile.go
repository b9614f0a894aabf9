package silver

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/lakectl/lakectl/engine"
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
	duck string // DuckDB type
}

// Compile checks a Silver table declaration (already validated by the pipeline
// loader) and prepares its SQL.
func Compile(t pipeline.Table) (*Contract, error) {
	c := &Contract{Table: t}
	for _, f := range t.Fields {
		duck, ok := pipeline.DuckDBType(f.Type)
		if !ok {
			return nil, fmt.Errorf("compile silver.%s: field %s: unknown type %q", t.Name, f.Name, f.Type)
		}
		if strings.ContainsAny(f.JSONKey(), "\"\\") {
			return nil, fmt.Errorf("compile silver.%s: field %s: JSON key %q may not hold quotes or backslashes", t.Name, f.Name, f.JSONKey())
		}
		c.fields = append(c.fields, compiledField{Field: f, duck: duck})
		c.Columns = append(c.Columns, Column{Name: f.Name, DuckDB: duck, Delta: deltaType(f.Type), Nullable: !f.Required})
	}
	for _, e := range t.Enrich {
		for _, col := range e.Columns {
			// Reference columns keep the type they have in the reference table; the
			// writer takes the type from the query result.
			c.Columns = append(c.Columns, Column{Name: col, Nullable: true})
		}
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

// PartitionColumns are the Silver table's partition columns, in path order.
func (c *Contract) PartitionColumns() []string { return []string{ColEventDate, ColEventHour} }

// Key returns the key fields.
func (c *Contract) Key() []string { return c.Table.Key }

// OrderBy is the ranking of duplicates: the first row wins. It uses only stored
// columns, so the same ranking applies to rows already in Silver.
func (c *Contract) OrderBy() []string {
	return []string{ident(c.Table.EventTime), ident(ColIngestedAt), ident(ColTopic), ident(ColPartition), ident(ColOffset)}
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
func (c *Contract) structType() string {
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
	return b.String()
}

// Refs names the relation that holds each reference table in the session.
type Refs func(name string) string

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
func (c *Contract) Query(src string, refs Refs) string {
	var b sqlBuilder
	b.line(0, "WITH ", ident("decoded"), " AS (")
	b.line(1, "SELECT TRY(decode(", ident("payload"), ")) AS ", ident("_text"), ", ",
		ident("payload"), " AS ", ident("_raw"), ", ",
		ident("topic"), " AS ", ident(ColTopic), ", ",
		ident("partition"), " AS ", ident(ColPartition), ", ",
		ident("offset"), " AS ", ident(ColOffset), ", ",
		ident("ingested_at"), " AS ", ident(ColIngestedAt))
	b.line(1, "FROM ", src)
	b.line(0, "), ", ident("strict"), " AS (")
	// DuckDB's JSON reader takes trailing commas and NaN, and reads a repeated key as
	// its first value; the strict check refuses them and says why (see
	// engine.JSONProblemFunc).
	b.line(1, "SELECT *, ", engine.JSONProblemFunc, "(", ident("_text"), ") AS ", ident("_problem"))
	b.line(1, "FROM ", ident("decoded"))
	b.line(0, "), ", ident("parsed"), " AS (")
	// The strict check guards json_transform, which fails the whole query on malformed
	// input; TRY() would catch that too but falls back to row-at-a-time evaluation for
	// every chunk that holds one bad row, which costs ten times more.
	b.line(1, "SELECT *, CASE WHEN ", ident("_problem"), " IS NULL THEN json_transform(",
		ident("_text"), ", ", str(c.structType()), ") END AS ", ident("_j"))
	b.line(1, "FROM ", ident("strict"))
	b.line(0, "), ", ident("typed"), " AS (")
	types := []string{"*"}
	for _, f := range c.fields {
		types = append(types, "json_type("+c.jsonValue(f)+") AS "+jsonTypeCol(f))
	}
	b.line(1, "SELECT ", list(types))
	b.line(1, "FROM ", ident("parsed"))
	b.line(0, "), ", ident("converted"), " AS (")
	b.line(1, "SELECT *,")
	for i, f := range c.fields {
		sep := ","
		if i == len(c.fields)-1 {
			sep = ""
		}
		b.line(2, c.converted(f), " AS ", valueCol(f), sep)
	}
	b.line(1, "FROM ", ident("typed"))
	b.line(0, "), ", ident("enriched"), " AS (")
	c.enrich(&b, refs)
	b.line(0, "), ", ident("checked"), " AS (")
	b.line(1, "SELECT *, ", c.reason(), " AS ", ident(colReason))
	b.line(1, "FROM ", ident("enriched"))
	b.line(0, "), ", ident("kept"), " AS (")
	// The raw payload is dropped from valid rows here, below the ranking: the window
	// holds every row it ranks, and a payload is most of a row's bytes.
	b.line(1, "SELECT * EXCLUDE (", ident("_raw"), "), CASE WHEN ", ident(colReason), " IS NOT NULL THEN ",
		ident("_raw"), " END AS ", ident(colPayload))
	b.line(1, "FROM ", ident("checked"))
	b.line(0, ")")
	b.line(0, "SELECT")
	for _, f := range c.fields {
		b.line(1, c.value(f), " AS ", ident(f.Name), ",")
	}
	for _, e := range c.Table.Enrich {
		for _, col := range e.Columns {
			b.line(1, ident(col), ",")
		}
	}
	b.line(1, ident(ColIngestedAt), ", ", ident(ColTopic), ", ", ident(ColPartition), ", ", ident(ColOffset), ",")
	eventTime := c.value(c.field(c.Table.EventTime))
	b.line(1, "CAST(", eventTime, " AT TIME ZONE 'UTC' AS DATE) AS ", ident(ColEventDate), ",")
	b.line(1, "CAST(hour(", eventTime, " AT TIME ZONE 'UTC') AS INTEGER) AS ", ident(ColEventHour), ",")
	b.line(1, ident(colReason), ",")
	b.line(1, ident(colPayload), ",")
	var key, order []string
	for _, k := range c.Table.Key {
		key = append(key, c.value(c.field(k)))
	}
	order = append(order, eventTime)
	for _, o := range c.OrderBy()[1:] {
		// As in rankRow: HTTP rows have no topic and rank before Kafka rows, so that a
		// batch and a later run pick the same winner.
		if o == ident(ColTopic) {
			o = "coalesce(" + o + ", '')"
		}
		order = append(order, o)
	}
	b.line(1, "row_number() OVER (PARTITION BY (", ident(colReason), " IS NULL), ", list(key),
		" ORDER BY ", list(order), ") AS ", ident(colRank))
	b.line(0, "FROM ", ident("kept"))
	return b.String()
}

func (c *Contract) field(name string) compiledField {
	for _, f := range c.fields {
		if f.Name == name {
			return f
		}
	}
	panic("silver: contract has no field " + name) // Compile and the loader rule this out
}

// value is the typed value of a field, NULL when absent or not exactly convertible.
func (c *Contract) value(f compiledField) string { return valueCol(f) }

// enrich writes the SELECT of the enriched step: one LEFT JOIN per enrichment, against
// the reference table deduplicated on its key (so a repeated key cannot multiply
// events), with a flag per join that says whether it matched.
func (c *Contract) enrich(b *sqlBuilder, refs Refs) {
	sel := []string{"p.*"}
	for i, e := range c.Table.Enrich {
		alias := fmt.Sprintf("r%d", i)
		for _, col := range e.Columns {
			sel = append(sel, alias+"."+ident(col))
		}
		sel = append(sel, fmt.Sprintf("(%s.%s IS NOT NULL) AS %s", alias, ident("_k"), ident(fmt.Sprintf("_m%d", i))))
	}
	b.line(1, "SELECT ", list(sel))
	b.line(1, "FROM ", ident("converted"), " p")
	for i, e := range c.Table.Enrich {
		alias := fmt.Sprintf("r%d", i)
		on := c.field(e.On)
		cols := make([]string, len(e.Columns))
		for j, col := range e.Columns {
			cols[j] = ident(col)
		}
		refKey := fmt.Sprintf("TRY_CAST(%s AS %s)", ident(e.RefKey), on.duck)
		b.line(1, "LEFT JOIN (")
		b.line(2, "SELECT ", refKey, " AS ", ident("_k"), ", ", list(cols))
		b.line(2, "FROM ", refs(e.Ref))
		b.line(2, "QUALIFY row_number() OVER (PARTITION BY ", refKey, " ORDER BY ", list(cols), ") = 1")
		b.line(1, ") ", alias, " ON ", alias, ".", ident("_k"), " = p.", c.value(on))
	}
}

// reason is the expression that says why a row is rejected, or NULL. Every field is
// checked and the problems are joined, so one look at a quarantined row says all that
// is wrong with it.
func (c *Contract) reason() string {
	var problems []string
	for _, f := range c.fields {
		problems = append(problems, c.fieldReason(f))
	}
	for i, e := range c.Table.Enrich {
		if !e.Required {
			continue
		}
		v := c.value(c.field(e.On))
		problems = append(problems, fmt.Sprintf("CASE WHEN %s IS NOT NULL AND NOT %s THEN %s || %s || %s END",
			v, ident(fmt.Sprintf("_m%d", i)), str(e.On+": "), shown(c.field(e.On), v), str(" not found in reference table "+e.Ref)))
	}
	// One problem per line, so the generated SQL reads field by field.
	return fmt.Sprintf("CASE WHEN %s IS NULL THEN %s WHEN %s IS NOT NULL THEN %s || %s ELSE nullif(concat_ws('; ',\n    %s\n  ), '') END",
		ident("_text"), str("payload: not valid UTF-8"),
		ident("_problem"), str("payload: "), ident("_problem"),
		strings.Join(problems, ",\n    "))
}

// shown is a field's typed value v as a reason shows it: strings JSON-quoted, so that
// an empty string or a trailing space can be seen.
func shown(f compiledField, v string) string {
	if f.Type == "string" {
		return "CAST(to_json(" + v + ") AS VARCHAR)"
	}
	return "CAST(" + v + " AS VARCHAR)"
}

// fieldReason checks one field: a converted value runs the checks; an absent or null
// one is fine unless required; any other value did not convert, and problem says why.
func (c *Contract) fieldReason(f compiledField) string {
	missing := "NULL"
	if f.Required {
		missing = str(f.Name + ": missing")
	}
	present := "NULL"
	if checks := c.checks(f, c.value(f)); checks != "" {
		present = checks
	}
	return fmt.Sprintf("CASE WHEN %s IS NOT NULL THEN %s WHEN %s IS NULL THEN %s ELSE %s END",
		c.value(f), present, jsonTypeCol(f), missing, c.problem(f))
}

// checks returns a CASE that names the first check v fails, or "" if f has none.
func (c *Contract) checks(f compiledField, v string) string {
	shown := str(f.Name+": ") + " || " + shown(f, v)
	var whens []string
	if f.Min != nil {
		whens = append(whens, fmt.Sprintf("WHEN %s < %s THEN %s || %s", v, num(*f.Min), shown, str(" is below the minimum "+num(*f.Min))))
	}
	if f.Max != nil {
		whens = append(whens, fmt.Sprintf("WHEN %s > %s THEN %s || %s", v, num(*f.Max), shown, str(" is above the maximum "+num(*f.Max))))
	}
	if len(f.In) > 0 {
		allowed, quoted := make([]string, len(f.In)), make([]string, len(f.In))
		for i, a := range f.In {
			if f.Type == "int" {
				allowed[i] = a // validated as an integer by the loader
				quoted[i] = a
			} else {
				allowed[i] = str(a)
				quoted[i] = engine.QuoteJSON(a)
			}
		}
		whens = append(whens, fmt.Sprintf("WHEN %s NOT IN (%s) THEN %s || %s", v, list(allowed), shown,
			str(" is not one of "+strings.Join(quoted, ", "))))
	}
	if f.Pattern != "" {
		whens = append(whens, fmt.Sprintf("WHEN NOT regexp_matches(%s, %s) THEN %s || %s", v, str(f.Pattern), shown,
			str(" does not match "+f.Pattern)))
	}
	if len(whens) == 0 {
		return ""
	}
	return "CASE " + strings.Join(whens, " ") + " END"
}
