package silver

import (
	"strconv"
	"strings"
)

// The SQL that lakectl generates is assembled from these pieces only: identifiers are
// always quoted, and user values (allowed values, patterns, bounds) enter as quoted
// literals whose quotes are doubled, or as numbers formatted by strconv. Nothing from
// lakectl.yaml is pasted into SQL as it is.

// ident quotes a SQL identifier.
func ident(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// str quotes a SQL string literal.
func str(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// num formats a float as a SQL numeric literal.
func num(f float64) string {
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// list joins pieces with ", ".
func list(pieces []string) string { return strings.Join(pieces, ", ") }

// qualified returns schema.name, both quoted.
func qualified(schema, name string) string { return ident(schema) + "." + ident(name) }

// sqlBuilder is strings.Builder with line helpers, so generated SQL reads well in
// golden files and in EXPLAIN output.
type sqlBuilder struct{ strings.Builder }

func (b *sqlBuilder) line(indent int, pieces ...string) {
	b.WriteString(strings.Repeat("  ", indent))
	for _, p := range pieces {
		b.WriteString(p)
	}
	b.WriteByte('\n')
}
