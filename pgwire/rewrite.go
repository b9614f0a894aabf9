package pgwire

import (
	"fmt"
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
	// regclassCast follows a literal that names a relation: 'pg_class'::regclass.
	regclassCast = regexp.MustCompile(`(?i)^\s*::\s*(pg_catalog\s*\.\s*)?regclass\b`)
	// jsonBuildObject is PostgreSQL's json_build_object(k1, v1, ...), of any number
	// of pairs, which DuckDB calls json_object (SQLAlchemy's get_columns sends seven).
	jsonBuildObject = regexp.MustCompile(`(?i)\bjson_build_object\s*\(`)
	// formatCall is PostgreSQL's format(), which is the catalog's pg_format.
	formatCall = regexp.MustCompile(`(?i)\bformat\s*\(`)
	// anyOfColumn is "x = ANY(array_column)", which DuckDB plans as a subquery that
	// an outer join's condition cannot hold (SQLAlchemy's get_indexes joins
	// pg_attribute ON a.attnum = ANY(ix.indkey)); list_contains is the same test.
	anyOfColumn = regexp.MustCompile(`(?i)([\w.]+)\s*=\s*ANY\s*\(\s*([a-z_][\w]*(?:\.[a-z_][\w]*)?)\s*\)`)
	// quotedQualifier is the dot after a quoted schema name: "pg_catalog"."pg_class".
	quotedQualifier = regexp.MustCompile(`^\s*\.\s*`)
	// regexOp ends code that a pattern follows: "x ~ " or "x !~ ", not LIKE's ~~.
	regexOp = regexp.MustCompile(`(^|[^~!])!?~\s*$`)
)

func rewrite(sql string) string {
	var out strings.Builder
	afterRegexOp := false
	segs := segments(rewriteRegclassCasts(rewriteFromFunctions(sql)))
	for i, seg := range segs {
		if seg.quoted && i+1 < len(segs) && !segs[i+1].quoted && strings.HasPrefix(seg.text, "'") {
			if m := regclassCast.FindString(segs[i+1].text); m != "" {
				// DuckDB has no regclass: the name becomes the OID it stands for.
				out.WriteString(fmt.Sprint(regclassOID(strings.Trim(seg.text, "'"))))
				segs[i+1].text = segs[i+1].text[len(m):]
				afterRegexOp = false
				continue
			}
		}
		if seg.quoted && i+1 < len(segs) && !segs[i+1].quoted {
			// A quoted schema name qualifies as an unquoted one does.
			if dot := quotedQualifier.FindString(segs[i+1].text); dot != "" {
				switch seg.text {
				case `"pg_catalog"`:
					segs[i+1].text = segs[i+1].text[len(dot):]
					continue
				case `"information_schema"`:
					out.WriteString(infoSchema + ".")
					segs[i+1].text = segs[i+1].text[len(dot):]
					continue
				}
			}
		}
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
		s = jsonBuildObject.ReplaceAllString(s, "json_object(")
		s = anyOfColumn.ReplaceAllString(s, "list_contains($2, $1)")
		s = formatCall.ReplaceAllString(s, "pg_format(")
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

// systemOIDs are the OIDs of PostgreSQL's catalog tables that clients name with
// regclass casts (pg_description.classoid = 'pg_class'::regclass).
var systemOIDs = map[string]int64{"pg_type": 1247, "pg_attribute": 1249, "pg_proc": 1255, "pg_class": 1259,
	"pg_namespace": 2615, "pg_constraint": 2606, "pg_index": 2610, "pg_description": 2609}

// regclassOID is the OID of the relation that name (schema.table, or a catalog
// table) names in the session's catalog; 0 for none.
func regclassOID(name string) int64 {
	name = strings.ReplaceAll(strings.ToLower(name), `"`, "")
	name = strings.TrimPrefix(name, "pg_catalog.")
	if oid, ok := systemOIDs[name]; ok {
		return oid
	}
	if schema, table, ok := strings.Cut(name, "."); ok {
		return relOID("r", schema, table)
	}
	return 0
}
