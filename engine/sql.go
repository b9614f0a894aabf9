package engine

import "strings"

// The SQL that lakectl generates is assembled from these pieces only: names go through
// Ident, values through Literal (or bound parameters), so no table, column or file name
// can change the statement's shape.

// Ident quotes a name for DuckDB: "a""b" for a"b.
func Ident(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// QualifiedName quotes schema.name.
func QualifiedName(schema, name string) string {
	return Ident(schema) + "." + Ident(name)
}

// Literal quotes a string constant: 'it”s' for it's.
func Literal(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// ListLiteral writes a list of string constants: ['a', 'b'].
func ListLiteral(items []string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, it := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(Literal(it))
	}
	b.WriteByte(']')
	return b.String()
}

// Cast writes CAST(expr AS typ); expr and typ must themselves be generated SQL.
func Cast(expr, typ string) string { return "CAST(" + expr + " AS " + typ + ")" }
