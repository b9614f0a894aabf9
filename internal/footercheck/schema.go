package footercheck

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/lakectl/lakectl/lake"
)

// node is one element of a Parquet schema, as parquet_schema lists it.
type node struct {
	name       string
	physical   string // empty for a group
	repetition string
	converted  string
	logical    string
	precision  int64
	scale      int64
	children   []*node
}

// readSchema rebuilds the schema tree of a file from parquet_schema's depth-first
// list of elements.
func readSchema(ctx context.Context, db *sql.DB, path string) (*node, error) {
	rows, err := db.QueryContext(ctx, `SELECT name, type, repetition_type, num_children, converted_type,
		scale, precision, logical_type FROM parquet_schema($1) ORDER BY column_id`, path)
	if err != nil {
		return nil, fmt.Errorf("parquet_schema: %w", err)
	}
	defer rows.Close()
	type pending struct {
		n    *node
		left int64
	}
	var root *node
	var stack []pending
	for rows.Next() {
		var (
			name, physical, repetition, converted, logical sql.NullString
			children, scale, precision                     sql.NullInt64
		)
		if err := rows.Scan(&name, &physical, &repetition, &children, &converted, &scale, &precision, &logical); err != nil {
			return nil, fmt.Errorf("parquet_schema: %w", err)
		}
		n := &node{name: name.String, physical: physical.String, repetition: repetition.String,
			converted: converted.String, logical: normalizeLogical(logical.String), precision: precision.Int64, scale: scale.Int64}
		if root == nil {
			root = n
		} else {
			if len(stack) == 0 {
				return nil, fmt.Errorf("parquet_schema: element %q after the schema's last", n.name)
			}
			top := &stack[len(stack)-1]
			top.n.children = append(top.n.children, n)
			top.left--
		}
		for len(stack) > 0 && stack[len(stack)-1].left == 0 {
			stack = stack[:len(stack)-1]
		}
		if children.Int64 > 0 {
			stack = append(stack, pending{n: n, left: children.Int64})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("parquet_schema: %w", err)
	}
	if root == nil {
		return nil, errNoSchema
	}
	if len(stack) > 0 {
		return nil, fmt.Errorf("parquet_schema: group %q lacks %d children", stack[len(stack)-1].n.name, stack[len(stack)-1].left)
	}
	return root, nil
}

// normalizeLogical spells IntType's bitWidth as a number: DuckDB prints the byte as
// a character ("bitWidth=@" for 64).
func normalizeLogical(s string) string {
	const key = "bitWidth="
	i := strings.Index(s, key)
	if i < 0 || len(s) < i+len(key)+2 || s[i+len(key)+1] != ',' {
		return s
	}
	w := s[i+len(key)]
	return s[:i+len(key)] + strconv.Itoa(int(w)) + s[i+len(key)+1:]
}

// leafPaths adds the path of every leaf below n (not n itself, the root) to out, in
// parquet_metadata's spelling: names joined with ", ".
func (n *node) leafPaths(prefix []string, out map[string]bool) {
	for _, c := range n.children {
		p := append(slices.Clone(prefix), c.name)
		if len(c.children) == 0 {
			out[strings.Join(p, ", ")] = true
			continue
		}
		c.leafPaths(p, out)
	}
}

func (n *node) child(name string) *node {
	for _, c := range n.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

// schemaProblems compares the file's columns with the table's schema: each column
// that is not a partition column is in the file with the Parquet type Delta maps its
// type to, and the file has no other column.
func schemaProblems(root *node, schema *lake.Schema, partitionCols []string) []string {
	var problems []string
	want := map[string]bool{}
	for _, f := range schema.Fields {
		if slices.Contains(partitionCols, f.Name) {
			continue
		}
		want[f.Name] = true
		c := root.child(f.Name)
		if c == nil {
			problems = append(problems, fmt.Sprintf("column %s of the table's schema is not in the file", f.Name))
			continue
		}
		problems = append(problems, typeProblems(f.Name, c, f.DataType)...)
	}
	for _, c := range root.children {
		if !want[c.name] {
			problems = append(problems, fmt.Sprintf("column %s is in the file but not a data column of the table", c.name))
		}
	}
	return problems
}

// typeProblems checks that element n, at column path at, has the Parquet shape and
// annotation of Delta type t.
func typeProblems(at string, n *node, t lake.DataType) []string {
	bad := func(want string) []string {
		return []string{fmt.Sprintf("%s: Delta %s wants %s; the file has %s", at, t.Name, want, n.describe())}
	}
	switch t.Name {
	case "struct":
		if n.physical != "" || n.converted != "" {
			return bad("a plain group")
		}
		var out []string
		for _, f := range t.Fields {
			c := n.child(f.Name)
			if c == nil {
				out = append(out, fmt.Sprintf("%s: field %s is not in the file", at, f.Name))
				continue
			}
			out = append(out, typeProblems(at+"."+f.Name, c, f.DataType)...)
		}
		if len(n.children) != len(t.Fields) {
			out = append(out, fmt.Sprintf("%s: %d fields in the file, %d in the schema", at, len(n.children), len(t.Fields)))
		}
		return out
	case "array":
		// The three-level LIST: <list> (LIST) { repeated group list { element } }.
		if n.converted != "LIST" || len(n.children) != 1 || n.children[0].repetition != "REPEATED" || len(n.children[0].children) != 1 {
			return bad("a three-level LIST group")
		}
		return typeProblems(at+"[]", n.children[0].children[0], *t.Element)
	case "map":
		if n.converted != "MAP" || len(n.children) != 1 || n.children[0].repetition != "REPEATED" || len(n.children[0].children) != 2 {
			return bad("a MAP group of key_value pairs")
		}
		kv := n.children[0]
		return append(typeProblems(at+".key", kv.children[0], *t.Key), typeProblems(at+".value", kv.children[1], *t.Value)...)
	}
	if len(n.children) > 0 {
		return bad("a primitive column")
	}
	if p, s, ok := t.DecimalParams(); ok {
		if n.converted != "DECIMAL" || n.precision != int64(p) || n.scale != int64(s) {
			return bad(fmt.Sprintf("DECIMAL(%d,%d)", p, s))
		}
		return nil
	}
	want, ok := primitives[t.Name]
	if !ok {
		return []string{fmt.Sprintf("%s: Delta type %s is not one lakectl writes", at, t.Name)}
	}
	if n.physical != want.physical || !want.annotated(n) {
		return bad(want.String())
	}
	return nil
}

// parquetType is the Parquet physical type and annotation Delta maps a primitive to.
type parquetType struct {
	physical string
	// converted lists the converted types that say it; "" stands for none, where the
	// bare physical type means the same (an INT64 is a signed 64-bit integer).
	converted []string
	// logical holds parts the logical type must have. A writer may leave the
	// logical type out where the converted type says the same (DuckDB does for
	// strings), except where logicalRequired: only the logical type of a timestamp
	// says it is adjusted to UTC.
	logical         []string
	logicalRequired bool
}

func (p parquetType) annotated(n *node) bool {
	if !slices.Contains(p.converted, n.converted) {
		return false
	}
	if n.logical == "" {
		return !p.logicalRequired
	}
	for _, part := range p.logical {
		if !strings.Contains(n.logical, part) {
			return false
		}
	}
	return true
}

func (p parquetType) String() string {
	s := p.physical
	if c := slices.DeleteFunc(slices.Clone(p.converted), func(c string) bool { return c == "" }); len(c) > 0 {
		s += " " + strings.Join(c, "|")
	}
	if len(p.logical) > 0 {
		s += " (" + strings.Join(p.logical, ", ") + ")"
	}
	return s
}

func (n *node) describe() string {
	s := n.physical
	if s == "" {
		s = fmt.Sprintf("a group of %d", len(n.children))
	}
	if n.converted != "" {
		s += " " + n.converted
	}
	if n.converted == "DECIMAL" {
		s += fmt.Sprintf("(%d,%d)", n.precision, n.scale)
	}
	if n.logical != "" {
		s += " " + n.logical
	}
	return s
}

// primitives maps Delta's primitive types to Parquet's, as the Delta protocol and
// the Parquet format's logical types define them.
var primitives = map[string]parquetType{
	"string":    {physical: "BYTE_ARRAY", converted: []string{"UTF8"}, logical: []string{"StringType"}},
	"binary":    {physical: "BYTE_ARRAY", converted: []string{""}},
	"boolean":   {physical: "BOOLEAN", converted: []string{""}},
	"long":      {physical: "INT64", converted: []string{"", "INT_64"}, logical: []string{"bitWidth=64", "isSigned=1"}},
	"integer":   {physical: "INT32", converted: []string{"", "INT_32"}, logical: []string{"bitWidth=32", "isSigned=1"}},
	"short":     {physical: "INT32", converted: []string{"INT_16"}, logical: []string{"bitWidth=16", "isSigned=1"}},
	"byte":      {physical: "INT32", converted: []string{"INT_8"}, logical: []string{"bitWidth=8", "isSigned=1"}},
	"float":     {physical: "FLOAT", converted: []string{""}},
	"double":    {physical: "DOUBLE", converted: []string{""}},
	"date":      {physical: "INT32", converted: []string{"DATE"}, logical: []string{"DateType"}},
	"timestamp": {physical: "INT64", converted: []string{"TIMESTAMP_MICROS"}, logical: []string{"TimestampType", "isAdjustedToUTC=1", "MICROS=MicroSeconds()"}, logicalRequired: true},
}
