package pgwire

import (
	"regexp"
	"strings"
)

// Clients write PostgreSQL, and name its catalog: psql's \d writes
// "n.nspname OPERATOR(pg_catalog.~) '^(views)$' COLLATE pg_catalog.default", BI tools
// read information_schema. rewrite turns that into DuckDB SQL over the session's own
// catalog (catalog.go): the schema pg_catalog is dropped from names, so that they
// resolve on the search path, which puts catalogSchema first; information_schema
// becomes infoSchema; PostgreSQL's operator syntax becomes the bare operator, and
// the pattern a ~ operator takes is made to match anywhere in the text, as it does
// in PostgreSQL. Text in quotes and comments is otherwise left as it is.

var (
	operatorCall = regexp.MustCompile(`(?i)\bOPERATOR\s*\(\s*pg_catalog\s*\.\s*([^\s)]+)\s*\)`)
	collateDflt  = regexp.MustCompile(`(?i)\bCOLLATE\s+(pg_catalog\s*\.\s*)?("default"|default)`)
	pgCatalog    = regexp.MustCompile(`(?i)(^|[^\w.$"])pg_catalog\s*\.\s*`)
	infoSchemaRe = regexp.MustCompile(`(?i)(^|[^\w.$"])information_schema\s*\.`)
	// regexOp ends code that a pattern follows: "x ~ " or "x !~ ", not LIKE's ~~.
	regexOp = regexp.MustCompile(`(^|[^~!])!?~\s*$`)
)

func rewrite(sql string) string {
	var out strings.Builder
	afterRegexOp := false
	for _, seg := range segments(sql) {
		if seg.quoted {
			if afterRegexOp && strings.HasPrefix(seg.text, "'") && strings.HasSuffix(seg.text, "'") && len(seg.text) >= 2 {
				// PostgreSQL's ~ finds the pattern anywhere; DuckDB's matches the
				// whole text.
				seg.text = "'(?s).*(?:" + seg.text[1:len(seg.text)-1] + ").*'"
			}
			out.WriteString(seg.text)
			afterRegexOp = false
			continue
		}
		s := operatorCall.ReplaceAllString(seg.text, " $1 ")
		s = collateDflt.ReplaceAllString(s, "")
		s = pgCatalog.ReplaceAllString(s, "$1")
		s = infoSchemaRe.ReplaceAllString(s, "${1}"+infoSchema+".")
		afterRegexOp = regexOp.MatchString(s)
		out.WriteString(s)
	}
	return out.String()
}

// segment is a run of SQL: code, or a quoted string, quoted identifier or comment.
type segment struct {
	text   string
	quoted bool
}

// segments splits sql into code and the quoted runs within it. An unterminated
// quote runs to the end; DuckDB's parser then reports it.
func segments(sql string) []segment {
	var segs []segment
	start := 0
	for i := 0; i < len(sql); {
		end := -1
		switch {
		case sql[i] == '\'' || sql[i] == '"':
			end = closeQuote(sql, i, sql[i])
		case strings.HasPrefix(sql[i:], "--"):
			if end = strings.IndexByte(sql[i:], '\n'); end < 0 {
				end = len(sql)
			} else {
				end += i + 1
			}
		case strings.HasPrefix(sql[i:], "/*"):
			if end = strings.Index(sql[i+2:], "*/"); end < 0 {
				end = len(sql)
			} else {
				end += i + 4
			}
		}
		if end < 0 {
			i++
			continue
		}
		if i > start {
			segs = append(segs, segment{text: sql[start:i]})
		}
		segs = append(segs, segment{text: sql[i:end], quoted: true})
		start, i = end, end
	}
	if start < len(sql) {
		segs = append(segs, segment{text: sql[start:]})
	}
	return segs
}

// closeQuote is the end of the quoted run that starts at i: a doubled quote
// character is part of it.
func closeQuote(sql string, i int, q byte) int {
	for j := i + 1; j < len(sql); j++ {
		if sql[j] != q {
			continue
		}
		if j+1 < len(sql) && sql[j+1] == q {
			j++
			continue
		}
		return j + 1
	}
	return len(sql)
}
