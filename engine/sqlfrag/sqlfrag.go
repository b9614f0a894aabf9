// Package sqlfrag builds the SQL that lakectl generates from typed fragments. A
// fragment (SQL) can only be made from a string constant in lakectl's source code,
// a quoted identifier, a quoted string literal, a checked number, or other fragments.
// So a name or value that comes from lakectl.yaml, a Delta log or a file name enters
// a statement only quoted, and cannot change its shape; a NaN bound is an error here,
// not a binder error in DuckDB.
//
//	where := sqlfrag.Fmt("%s >= %s", sqlfrag.Ident(field), sqlfrag.MustFloat(0))
//	q := sqlfrag.Fmt("SELECT count(*) FROM %s WHERE %s", sqlfrag.Qualified("silver", table), where)
//	err := sess.QueryRowContext(ctx, q.String()).Scan(&n)
//
// SQL that users write is not generated: it runs as written (see engine), and enters
// a generated statement only whole, through Query.
package sqlfrag

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// SQL is a fragment of generated SQL. The zero value is empty.
type SQL struct{ text string }

// String returns the fragment's text, to run or to show.
func (s SQL) String() string { return s.text }

// IsZero reports whether the fragment is empty.
func (s SQL) IsZero() bool { return s.text == "" }

// constant is the type of Const's and Fmt's text. It is unexported, so other packages
// can pass only untyped string constants (literals and consts written in the source),
// never a string computed at run time.
type constant string

// Const is SQL written in lakectl's source: keywords, operators, function names.
func Const(text constant) SQL { return SQL{string(text)} }

// Fmt fills the %s verbs of format (a constant, as for Const; %[n]s and %% too) with
// fragments. Any other verb is a programming error and panics.
func Fmt(format constant, args ...SQL) SQL {
	f := string(format)
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		j := i + 1
		if j < len(f) && f[j] == '[' {
			for j < len(f) && f[j] != ']' {
				j++
			}
			j++
		}
		if j >= len(f) || (f[j] != 's' && !(f[j] == '%' && j == i+1)) {
			panic(fmt.Sprintf("sqlfrag.Fmt: format %q: only %%s, %%[n]s and %%%% are allowed", f))
		}
		i = j
	}
	texts := make([]any, len(args))
	for i, a := range args {
		texts[i] = a.text
	}
	return SQL{fmt.Sprintf(f, texts...)}
}

// Ident quotes a name: "a""b" for a"b.
func Ident(name string) SQL {
	return SQL{`"` + strings.ReplaceAll(name, `"`, `""`) + `"`}
}

// Qualified quotes schema.name.
func Qualified(schema, name string) SQL {
	return SQL{Ident(schema).text + "." + Ident(name).text}
}

// Str quotes a string constant, doubling the single quotes in it.
func Str(s string) SQL {
	return SQL{"'" + strings.ReplaceAll(s, "'", "''") + "'"}
}

// StrList writes a list of string constants: ['a', 'b'].
func StrList(items []string) SQL {
	parts := make([]SQL, len(items))
	for i, it := range items {
		parts[i] = Str(it)
	}
	return SQL{"[" + List(parts...).text + "]"}
}

// Int writes an integer.
func Int(n int64) SQL { return SQL{strconv.FormatInt(n, 10)} }

// Float writes a number. NaN and infinities have no SQL literal (DuckDB would read
// the words as column names), so they are an error.
func Float(f float64) (SQL, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return SQL{}, fmt.Errorf("%v is not a finite number", f)
	}
	return SQL{strconv.FormatFloat(f, 'g', -1, 64)}, nil
}

// MustFloat is Float for numbers that lakectl's source computes and knows finite; it
// panics on any other.
func MustFloat(f float64) SQL {
	s, err := Float(f)
	if err != nil {
		panic("sqlfrag.MustFloat: " + err.Error())
	}
	return s
}

// Decimal is the type DECIMAL(p,s).
func Decimal(precision, scale int) SQL {
	return Fmt("DECIMAL(%s,%s)", Int(int64(precision)), Int(int64(scale)))
}

// Join joins fragments with sep between them.
func Join(parts []SQL, sep constant) SQL {
	texts := make([]string, len(parts))
	for i, p := range parts {
		texts[i] = p.text
	}
	return SQL{strings.Join(texts, string(sep))}
}

// List joins fragments with ", ".
func List(parts ...SQL) SQL { return Join(parts, ", ") }

// Concat joins fragments with nothing between them.
func Concat(parts ...SQL) SQL { return Join(parts, "") }

// Query is a whole query that comes as text, a user's or one that an API takes as a
// string, in parentheses so that it is one operand: SELECT * FROM (query).
func Query(text string) SQL { return SQL{"(" + text + ")"} }

// Builder writes SQL a line at a time, indented, so that generated queries read well
// in golden files and in EXPLAIN output.
type Builder struct{ b strings.Builder }

// Line writes the fragments on one line at the indent (two spaces each).
func (b *Builder) Line(indent int, parts ...SQL) {
	b.b.WriteString(strings.Repeat("  ", indent))
	for _, p := range parts {
		b.b.WriteString(p.text)
	}
	b.b.WriteByte('\n')
}

// SQL returns what was written.
func (b *Builder) SQL() SQL { return SQL{b.b.String()} }
