package pgwire

import (
	"fmt"
	"regexp"
	"strings"
)

// The rewrites of calls, which need the call's parentheses matched, not only a
// pattern: a function in FROM, and a cast to regclass.
//
// PostgreSQL lets a function call stand in FROM as a table of one column that the
// alias names, whether the function returns a set or a single value: Grafana's
// table list reads "FROM generate_series(...) as i, string_to_array(...) s" and
// then s[i]; psql reads "FROM pg_catalog.generate_series(...) s". DuckDB has no
// scalar functions in FROM, names a table function's column after the function,
// and refuses subqueries in a table function's arguments. fromFunctions makes each
// such call a subquery whose one column has the alias's name:
// "(SELECT unnest(generate_series(...))) AS i(i)".

// fromFunctions are the PostgreSQL functions that clients call in FROM, with the
// select list that turns the call (%s) into the rows PostgreSQL gives: DuckDB's
// generate_series and string_to_array are lists.
var fromFunctions = map[string]string{
	"generate_series": "unnest(%s)",
	"unnest":          "%s",
	"string_to_array": "%s",
}

// clauseWords start a clause: a call in FROM follows FROM, JOIN or a comma of FROM.
var clauseWords = map[string]bool{"select": true, "from": true, "join": true, "where": true, "group": true,
	"order": true, "having": true, "limit": true, "on": true, "using": true, "union": true, "window": true,
	"values": true, "offset": true, "intersect": true, "except": true}

// fromAlias is the alias after a call: "s", "as i"; not a keyword that goes on with
// the query, and not a column list "t(x)", which needs no name.
var fromAlias = regexp.MustCompile(`^\s+(?i:as\s+)?([A-Za-z_][\w$]*)\b(\s*\()?`)

func rewriteFromFunctions(sql string) string {
	m := masked(sql)
	type edit struct {
		start, end int
		text       string
	}
	var edits []edit
	clause := map[int]string{}
	prev := map[int]string{}
	depth := 0
	for i := 0; i < len(m); {
		c := m[i]
		switch {
		case c == '(':
			depth++
			clause[depth], prev[depth] = "", "("
			i++
		case c == ')':
			depth--
			prev[depth] = ")"
			i++
		case isIdentStart(c):
			start := i
			j := identEnd(m, i)
			word := strings.ToLower(m[i:j])
			if word == "pg_catalog" && j < len(m) && m[j] == '.' {
				// A qualified call: the name follows the dot.
				if k := j + 1; k < len(m) && isIdentStart(m[k]) {
					i, j = k, identEnd(m, k)
					word = strings.ToLower(m[i:j])
				}
			}
			if clauseWords[word] {
				clause[depth] = word
				if word == "join" {
					clause[depth] = "from"
				}
			}
			tmpl, ok := fromFunctions[word]
			p := prev[depth]
			if ok && clause[depth] == "from" && (p == "from" || p == "join" || p == ",") {
				if k := skipSpace(m, j); k < len(m) && m[k] == '(' {
					if end := closeParen(m, k); end > 0 {
						if a := fromAlias.FindStringSubmatchIndex(m[end:]); a != nil && a[4] < 0 && !clauseWords[strings.ToLower(m[end+a[2]:end+a[3]])] {
							alias := m[end+a[2] : end+a[3]]
							call := sql[i:end]
							edits = append(edits, edit{start, end + a[3], fmt.Sprintf("(SELECT "+tmpl+") AS %s(%s)", call, alias, alias)})
							prev[depth] = alias
							i = end + a[3]
							continue
						}
					}
				}
			}
			prev[depth] = word
			i = j
		default:
			if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
				prev[depth] = string(c)
			}
			i++
		}
	}
	for k := len(edits) - 1; k >= 0; k-- {
		e := edits[k]
		sql = sql[:e.start] + e.text + sql[e.end:]
	}
	return sql
}

// masked is sql with the text of its quoted runs and comments blanked, so that
// their parentheses and words are not taken for code; offsets stay the same.
func masked(sql string) string {
	var b strings.Builder
	for _, seg := range segments(sql) {
		if !seg.quoted {
			b.WriteString(seg.text)
			continue
		}
		if strings.HasPrefix(seg.text, "--") || strings.HasPrefix(seg.text, "/*") {
			b.WriteString(strings.Repeat(" ", len(seg.text)))
			continue
		}
		// The quotes stay, so that the run is still a term.
		b.WriteByte(seg.text[0])
		if len(seg.text) > 1 {
			b.WriteString(strings.Repeat(" ", len(seg.text)-2))
			b.WriteByte(seg.text[len(seg.text)-1])
		}
	}
	return b.String()
}

func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func identEnd(s string, i int) int {
	for i < len(s) && (isIdentStart(s[i]) || s[i] >= '0' && s[i] <= '9' || s[i] == '$') {
		i++
	}
	return i
}

func skipSpace(s string, i int) int {
	for i < len(s) && strings.IndexByte(" \t\r\n", s[i]) >= 0 {
		i++
	}
	return i
}

// closeParen is the offset after the parenthesis that closes the one at open, or
// -1.
func closeParen(s string, open int) int {
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return -1
}

// regclassCastRe ends the argument of a CAST to regclass: "x AS pg_catalog.regclass".
var regclassCastRe = regexp.MustCompile(`(?is)^(.*\S)\s+AS\s+(?:pg_catalog\s*\.\s*)?regclass\s*$`)

// rewriteRegclassCasts makes CAST(expr AS regclass), a relation's name to its OID
// (Metabase's CAST(CAST(FORMAT('%I.%I', schema, table) AS REGCLASS) AS OID)), a call
// of the catalog's regclass_in, which looks the name up. A quoted name cast with ::
// is rewrite's; regclass is an OID type otherwise.
func rewriteRegclassCasts(sql string) string {
	for {
		m := masked(sql)
		done := true
		for _, loc := range castCall.FindAllStringIndex(m, -1) {
			open := loc[1] - 1
			end := closeParen(m, open)
			if end < 0 {
				continue
			}
			a := regclassCastRe.FindStringSubmatchIndex(m[open+1 : end-1])
			if a == nil {
				continue
			}
			expr := sql[open+1+a[2] : open+1+a[3]]
			sql = sql[:loc[0]] + "regclass_in(" + expr + ")" + sql[end:]
			done = false
			break // offsets changed: scan again
		}
		if done {
			return sql
		}
	}
}

var castCall = regexp.MustCompile(`(?i)\bCAST\s*\(`)
