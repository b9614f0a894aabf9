package pgwire

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	wire "github.com/jeroenrinzema/psql-wire"
)

// Query parameters ($1, $2, ...) are bound by writing each value into the SQL as a
// quoted literal, which DuckDB casts to the type its use needs ('5' compared with a
// BIGINT is 5). The SQL with its values is then checked and run like any other, so a
// parameter cannot change what a query may do: its text is only ever a string
// literal, its quotes doubled. A statement is described with its parameters NULL,
// so a parameter that is a result column by itself needs a cast: SELECT $1::text.

var paramRef = regexp.MustCompile(`(^|[^\w$])\$(\d+)\b`)

// paramCount is the highest $n that sql's code (not its quoted text) refers to.
func paramCount(sql string) int {
	n := 0
	for _, seg := range segments(sql) {
		if seg.quoted {
			continue
		}
		for _, m := range paramRef.FindAllStringSubmatch(seg.text, -1) {
			if i, err := strconv.Atoi(m[2]); err == nil && i > n {
				n = i
			}
		}
	}
	return n
}

// bindParams writes literals (SQL text, or "NULL") in place of sql's $n.
func bindParams(sql string, literals []string) string {
	var b strings.Builder
	for _, seg := range segments(sql) {
		if seg.quoted {
			b.WriteString(seg.text)
			continue
		}
		b.WriteString(paramRef.ReplaceAllStringFunc(seg.text, func(m string) string {
			sub := paramRef.FindStringSubmatch(m)
			i, _ := strconv.Atoi(sub[2])
			if i < 1 || i > len(literals) {
				return m // DuckDB reports the parameter it has no value for
			}
			return sub[1] + literals[i-1]
		}))
	}
	return b.String()
}

// nullLiterals stand for parameters whose values are not known yet: a statement is
// described (its columns typed) before it is bound.
func nullLiterals(n int) []string {
	l := make([]string, n)
	for i := range l {
		l[i] = "NULL"
	}
	return l
}

// paramLiterals are the client's values as SQL literals. oids are the types the
// statement declared, by which binary values are decoded.
func paramLiterals(params []wire.Parameter, oids []uint32) ([]string, error) {
	out := make([]string, len(params))
	for i, p := range params {
		if p.Value() == nil {
			out[i] = "NULL"
			continue
		}
		if p.Format() == wire.TextFormat {
			out[i] = quoteLiteral(string(p.Value()))
			continue
		}
		oid := uint32(pgtype.TextOID)
		if i < len(oids) && oids[i] != 0 {
			oid = oids[i]
		}
		v, err := p.Scan(oid)
		if err != nil {
			return nil, fmt.Errorf("parameter $%d: %w", i+1, err)
		}
		out[i] = quoteLiteral(paramText(v))
	}
	return out, nil
}

// paramText is a decoded binary parameter as PostgreSQL would write it.
func paramText(v any) string {
	switch x := v.(type) {
	case time.Time:
		return x.Format("2006-01-02 15:04:05.999999Z07:00")
	case []byte:
		return string(x)
	}
	return fmt.Sprint(v)
}

// quoteLiteral is s as a SQL string literal: DuckDB's strings know no backslash
// escapes, so doubling the quote is all.
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
