package engine

import (
	"database/sql"
	"database/sql/driver"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/lakectl/lakectl/engine/sqlfrag"
)

// JSONProblemFunc is the SQL function that every Session has for strict JSON input:
// lakectl_json_problem(text VARCHAR) is NULL when text is one JSON object as RFC 8259
// defines it with no member name given twice at its top level, and otherwise says
// what is wrong: 'not valid JSON', 'not a JSON object' or 'duplicate key "k"'.
//
// DuckDB's JSON reader is lenient: json_valid and json_transform accept trailing
// commas and NaN and Infinity, and a repeated key reads as its first value. A contract
// that stores only what the sender unambiguously meant needs the strict check, and in
// SQL it would cost several passes over each payload; this is one pass in Go. What it
// accepts, DuckDB's reader accepts too (TestJSONProblemAgreesWithDuckDB), so a
// payload it passes cannot fail json_transform.
//
// A query checks every row with JSONProblemSQL rather than this function alone.
const JSONProblemFunc = "lakectl_json_problem"

// JSONStrictFunc is the same check as JSONProblemFunc as a BOOLEAN:
// lakectl_json_strict(text) is true when lakectl_json_problem(text) is NULL, false
// when it is not, and NULL for NULL. It is there because of what a row costs: a Go
// function's NULL result is a call from Go into DuckDB for that row, a BOOLEAN is
// not, and nearly every payload passes.
const JSONStrictFunc = "lakectl_json_strict"

// JSONProblemSQL is lakectl_json_problem(text) as a query computes it for every row:
// the BOOLEAN check first, and the problem only for the rows that fail it.
func JSONProblemSQL(text sqlfrag.SQL) sqlfrag.SQL {
	return sqlfrag.Fmt("CASE WHEN "+JSONStrictFunc+"(%[1]s) THEN NULL ELSE "+JSONProblemFunc+"(%[1]s) END", text)
}

// Problems that JSONProblem reports.
const (
	problemNotJSON   = "not valid JSON"
	problemNotObject = "not a JSON object"
)

// RegisterFunctions adds lakectl's SQL functions (JSONProblemFunc, JSONStrictFunc) to
// the database of conn. Open calls it; tests that open DuckDB themselves call it too.
func RegisterFunctions(conn *sql.Conn) error {
	for name, f := range map[string]duckdb.ScalarFunc{JSONProblemFunc: jsonProblemUDF{}, JSONStrictFunc: jsonStrictUDF{}} {
		if err := duckdb.RegisterScalarUDF(conn, name, f); err != nil {
			return fmt.Errorf("register %s: %w", name, err)
		}
	}
	return nil
}

type jsonProblemUDF struct{}

func (jsonProblemUDF) Config() duckdb.ScalarFuncConfig {
	varchar, _ := duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR) // a primitive type: cannot fail
	return duckdb.ScalarFuncConfig{InputTypeInfos: []duckdb.TypeInfo{varchar}, ResultTypeInfo: varchar}
}

func (jsonProblemUDF) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{RowExecutor: func(values []driver.Value) (any, error) {
		s, err := udfText(values)
		if err != nil {
			return nil, err
		}
		if p := JSONProblem(s); p != "" {
			return p, nil
		}
		return nil, nil
	}}
}

type jsonStrictUDF struct{}

func (jsonStrictUDF) Config() duckdb.ScalarFuncConfig {
	varchar, _ := duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR) // primitive types: cannot fail
	boolean, _ := duckdb.NewTypeInfo(duckdb.TYPE_BOOLEAN)
	return duckdb.ScalarFuncConfig{InputTypeInfos: []duckdb.TypeInfo{varchar}, ResultTypeInfo: boolean}
}

func (jsonStrictUDF) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{RowExecutor: func(values []driver.Value) (any, error) {
		s, err := udfText(values)
		if err != nil {
			return nil, err
		}
		return JSONProblem(s) == "", nil
	}}
}

// udfText is the VARCHAR argument of a call of the JSON check functions.
func udfText(values []driver.Value) (string, error) {
	s, ok := values[0].(string)
	if !ok {
		return "", fmt.Errorf("JSON check: want VARCHAR, got %T", values[0])
	}
	return s, nil
}

// JSONProblem is JSONProblemFunc in Go: "" when s is one JSON object (RFC 8259) whose
// top-level member names are all distinct, else the problem.
func JSONProblem(s string) string {
	sc := jsonScanner{s: s}
	return sc.document()
}

// jsonScanner checks JSON text in one pass, without recursion, and remembers the
// top-level member names. Its lists live in fixed arrays as long as they fit (64
// levels of nesting, 16 top-level members), so that checking a typical payload
// allocates nothing.
type jsonScanner struct {
	s      string
	i      int
	depth  int
	kinds  uint64 // bit d: the container at depth d+1 is an object, for the first 64
	deeper []bool // the same beyond 64 levels
	nkeys  int
	keys   [16]string // the top-level object's member names, unescaped
	more   []string   // and those past the 16th
}

func (sc *jsonScanner) push(object bool) {
	if sc.depth < 64 {
		if object {
			sc.kinds |= 1 << sc.depth
		} else {
			sc.kinds &^= 1 << sc.depth
		}
	} else {
		sc.deeper = append(sc.deeper[:sc.depth-64], object)
	}
	sc.depth++
}

// inObject says whether the innermost open container is an object.
func (sc *jsonScanner) inObject() bool {
	d := sc.depth - 1
	if d < 64 {
		return sc.kinds&(1<<d) != 0
	}
	return sc.deeper[d-64]
}

func (sc *jsonScanner) document() string {
	sc.ws()
	if sc.i >= len(sc.s) {
		return problemNotJSON
	}
	object := sc.s[sc.i] == '{'
	for {
		// A value starts here.
		if sc.i >= len(sc.s) {
			return problemNotJSON
		}
		switch c := sc.s[sc.i]; {
		case c == '{' || c == '[':
			sc.push(c == '{')
			sc.i++
			sc.ws()
			close := byte(']')
			if c == '{' {
				close = '}'
			}
			if sc.i < len(sc.s) && sc.s[sc.i] == close {
				sc.i++
				sc.depth--
				break
			}
			if c == '{' {
				if p := sc.member(); p != "" {
					return p
				}
			}
			continue
		case c == '"':
			if _, ok := sc.str(); !ok {
				return problemNotJSON
			}
		case c == '-' || c >= '0' && c <= '9':
			if !sc.number() {
				return problemNotJSON
			}
		case c == 't':
			if !sc.literal("true") {
				return problemNotJSON
			}
		case c == 'f':
			if !sc.literal("false") {
				return problemNotJSON
			}
		case c == 'n':
			if !sc.literal("null") {
				return problemNotJSON
			}
		default:
			return problemNotJSON
		}
		// A value ended: close containers, or go on after a comma.
		for {
			sc.ws()
			if sc.depth == 0 {
				if sc.i != len(sc.s) {
					return problemNotJSON
				}
				if !object {
					return problemNotObject
				}
				return sc.duplicate()
			}
			if sc.i >= len(sc.s) {
				return problemNotJSON
			}
			inObject, c := sc.inObject(), sc.s[sc.i]
			if c == ',' {
				sc.i++
				sc.ws()
				if inObject {
					if p := sc.member(); p != "" {
						return p
					}
				}
				break
			}
			if inObject && c == '}' || !inObject && c == ']' {
				sc.i++
				sc.depth--
				continue
			}
			return problemNotJSON
		}
	}
}

// member reads `"name" :` and leaves the scanner at the value.
func (sc *jsonScanner) member() string {
	if sc.i >= len(sc.s) || sc.s[sc.i] != '"' {
		return problemNotJSON
	}
	name, ok := sc.str()
	if !ok {
		return problemNotJSON
	}
	if sc.depth == 1 {
		if sc.nkeys < len(sc.keys) {
			sc.keys[sc.nkeys] = name
		} else {
			sc.more = append(sc.more, name)
		}
		sc.nkeys++
	}
	sc.ws()
	if sc.i >= len(sc.s) || sc.s[sc.i] != ':' {
		return problemNotJSON
	}
	sc.i++
	sc.ws()
	return ""
}

// duplicate names the first top-level member name that was given before.
func (sc *jsonScanner) duplicate() string {
	if sc.nkeys <= len(sc.keys) {
		keys := sc.keys[:sc.nkeys]
		for i, k := range keys {
			for _, earlier := range keys[:i] {
				if k == earlier {
					return "duplicate key " + QuoteJSON(k)
				}
			}
		}
		return ""
	}
	seen := make(map[string]bool, sc.nkeys)
	for _, k := range append(sc.keys[:], sc.more...) {
		if seen[k] {
			return "duplicate key " + QuoteJSON(k)
		}
		seen[k] = true
	}
	return ""
}

func (sc *jsonScanner) ws() {
	for sc.i < len(sc.s) && sc.s[sc.i] <= ' ' {
		switch sc.s[sc.i] {
		case ' ', '\t', '\n', '\r':
			sc.i++
		default:
			return
		}
	}
}

func (sc *jsonScanner) literal(word string) bool {
	if !strings.HasPrefix(sc.s[sc.i:], word) {
		return false
	}
	sc.i += len(word)
	return true
}

// number reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (sc *jsonScanner) number() bool {
	s := sc.s
	if sc.i < len(s) && s[sc.i] == '-' {
		sc.i++
	}
	switch {
	case sc.i < len(s) && s[sc.i] == '0':
		sc.i++
	case sc.i < len(s) && s[sc.i] >= '1' && s[sc.i] <= '9':
		sc.digits()
	default:
		return false
	}
	if sc.i < len(s) && s[sc.i] == '.' {
		sc.i++
		if sc.digits() == 0 {
			return false
		}
	}
	if sc.i < len(s) && (s[sc.i] == 'e' || s[sc.i] == 'E') {
		sc.i++
		if sc.i < len(s) && (s[sc.i] == '+' || s[sc.i] == '-') {
			sc.i++
		}
		if sc.digits() == 0 {
			return false
		}
	}
	return true
}

func (sc *jsonScanner) digits() int {
	start := sc.i
	for sc.i < len(sc.s) && sc.s[sc.i] >= '0' && sc.s[sc.i] <= '9' {
		sc.i++
	}
	return sc.i - start
}

// str reads a string and returns its value; escapes are decoded only when there are
// any. A \u escape of half a surrogate pair without its other half is refused, as
// DuckDB's reader refuses it.
func (sc *jsonScanner) str() (string, bool) {
	s, i := sc.s, sc.i+1 // after the opening quote; a local index stays in a register
	start := i
	escaped := false
	for {
		i = plainRun(s, i)
		if i >= len(s) {
			return "", false
		}
		switch s[i] {
		case '"':
			raw := s[start:i]
			sc.i = i + 1
			if !escaped {
				return raw, true
			}
			return unescape(raw)
		case '\\':
			escaped = true
			i += 2
		default: // a control character
			return "", false
		}
	}
}

// plainRun returns the index of the first byte from i on that does not stand for
// itself inside a string (a quote, a backslash or a control character), or len(s).
// It looks at eight bytes at a time: checking every payload's strings byte by byte
// was most of the check's time.
func plainRun(s string, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(s); i += 8 {
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		// The high bit of a byte of each term is set when that byte is below 0x20, a
		// quote or a backslash; a borrow can set it in higher bytes too, never in lower
		// ones, so the lowest set bit is exact.
		quote, backslash := w^(ones*'"'), w^(ones*'\\')
		special := ((w - ones*0x20) | (quote - ones) | (backslash - ones)) &^ w & highs
		if special != 0 {
			return i + bits.TrailingZeros64(special)/8
		}
	}
	for i < len(s) && s[i] >= 0x20 && s[i] != '"' && s[i] != '\\' {
		i++
	}
	return i
}

// unescape decodes the escapes of a string's raw text.
func unescape(raw string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			b.WriteByte(c)
			i++
			continue
		}
		if i+1 >= len(raw) {
			return "", false
		}
		switch e := raw[i+1]; e {
		case '"', '\\', '/':
			b.WriteByte(e)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, ok := hex4(raw, i+2)
			if !ok {
				return "", false
			}
			i += 6
			if utf16.IsSurrogate(r) {
				if r >= 0xdc00 || i+6 > len(raw) || raw[i] != '\\' || raw[i+1] != 'u' {
					return "", false
				}
				lo, ok := hex4(raw, i+2)
				if !ok || lo < 0xdc00 || lo > 0xdfff {
					return "", false
				}
				r = utf16.DecodeRune(r, lo)
				i += 6
			}
			b.WriteRune(r)
			continue
		default:
			return "", false
		}
		i += 2
	}
	return b.String(), true
}

func hex4(s string, at int) (rune, bool) {
	if at+4 > len(s) {
		return 0, false
	}
	n, err := strconv.ParseUint(s[at:at+4], 16, 32)
	if err != nil {
		return 0, false
	}
	return rune(n), true
}

// QuoteJSON writes s as a JSON string, so that an empty string, a trailing space or a
// control character is visible in a message.
func QuoteJSON(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == utf8.RuneError:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
