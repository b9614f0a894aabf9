package engine

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/lakectl/lakectl/engine/sqlfrag"
)

// jsonCases are texts DuckDB's JSON reader treats leniently or that sit at the edge of
// RFC 8259, with what the strict check says about each.
var jsonCases = []struct{ text, problem string }{
	{`{"a":1}`, ""},
	{" \t\r\n{\"a\" : [1, -0.5e+3, 0, 1E2, true, false, null, \"x\", {}, []]}\n", ""},
	{`{"a":"\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"}`, ""},
	{`{"a":1e400}`, ""}, // valid JSON; a field that reads it says it is out of range
	{`{"a":{"a":1},"b":{"a":2}}`, ""},
	{`{"a":1,"b":[{"c":1,"c":2}]}`, ""}, // only top-level names are checked
	{`{"a":"\u0000","b":-0,"c":0e0,"d":1E+2,"e":-1.5e-999999999,"f":123456789012345678901234567890}`, ""},
	{`{"a":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`, ""},
	{`{"a":` + strings.Repeat(`{"b":`, 5000) + `1` + strings.Repeat("}", 5000) + `}`, ""},
	{"{\"a\":\"\u00e9\u4e2d\U0001F600\"}", ""},
	{`{"a":1,}`, problemNotJSON},
	{`{"a":[1,2,]}`, problemNotJSON},
	{`{"a":1,"b":NaN}`, problemNotJSON},
	{`{"a":1,"b":-Infinity}`, problemNotJSON},
	{`{"a":nan}`, problemNotJSON},
	{`{"a":inf}`, problemNotJSON},
	{`{"a":01}`, problemNotJSON},
	{`{"a":+1}`, problemNotJSON},
	{`{"a":.5}`, problemNotJSON},
	{`{"a":1.}`, problemNotJSON},
	{`{"a":1e}`, problemNotJSON},
	{`{"a":True}`, problemNotJSON},
	{`{a:1}`, problemNotJSON},
	{`{"a":1,,"b":2}`, problemNotJSON},
	{`{"a":1} x`, problemNotJSON},
	{`{"a":1}{}`, problemNotJSON},
	{`{"a":"x` + "\t" + `y"}`, problemNotJSON},
	{`{"a":"\q"}`, problemNotJSON},
	{`{"a":"\ud800"}`, problemNotJSON},
	{`{"a":"\udc00\ud800"}`, problemNotJSON},
	{`{"a":"\u12"}`, problemNotJSON},
	{`{"a":1 /* c */}`, problemNotJSON},
	{`{"a":1`, problemNotJSON},
	{`{"a"}`, problemNotJSON},
	{`{"a":}`, problemNotJSON},
	{`[}`, problemNotJSON},
	{`"\`, problemNotJSON},
	{``, problemNotJSON},
	{`   `, problemNotJSON},
	{`[1,2,3]`, problemNotObject},
	{`"event"`, problemNotObject},
	{`null`, problemNotObject},
	{`{"event_type":"click","event_type":"purchase"}`, `duplicate key "event_type"`},
	{`{"a":1,"b":2,"b":{}}`, `duplicate key "b"`},
	{`{"event_type":"click","event\u005ftype":"purchase"}`, `duplicate key "event_type"`},
	{`{"":1,"":2}`, `duplicate key ""`},
	{`{"k ":1,"k ":2}`, `duplicate key "k "`},
	{`{"a":1,"b":1,"c":1,"d":1,"e":1,"f":1,"g":1,"h":1,"i":1,"j":1,"k":1,"l":1,"m":1,"n":1,"o":1,"p":1,"q":1,"a":2}`, `duplicate key "a"`},
}

func TestJSONProblem(t *testing.T) {
	for _, tc := range jsonCases {
		if got := JSONProblem(tc.text); got != tc.problem {
			t.Errorf("JSONProblem(%q) = %q, want %q", tc.text, got, tc.problem)
		}
	}
	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	if got := JSONProblem(`{"a":` + deep + `}`); got != "" {
		t.Errorf("deeply nested arrays: %q, want valid", got)
	}
}

// TestJSONProblemAgreesWithDuckDB: the SQL functions say what JSONProblem says, and
// everything it accepts DuckDB's reader accepts too, so json_transform never fails on
// a payload that passed; the lenient forms DuckDB takes (trailing commas, NaN) are
// the ones it refuses. JSONStrictFunc is true exactly where JSONProblemFunc is NULL,
// so JSONProblemSQL, which a query uses, says the same as JSONProblemFunc.
func TestJSONProblemAgreesWithDuckDB(t *testing.T) {
	s := openSession(t)
	query := fmt.Sprintf("SELECT %s(t), %s(t), %s, json_valid(t) FROM (SELECT ?::VARCHAR AS t)",
		JSONProblemFunc, JSONStrictFunc, JSONProblemSQL(sqlfrag.Ident("t")))
	for _, tc := range jsonCases {
		var problem, problemSQL sql.NullString
		var strict, duckValid sql.NullBool
		if err := s.QueryRowContext(t.Context(), query, tc.text).Scan(&problem, &strict, &problemSQL, &duckValid); err != nil {
			t.Fatalf("%q: %v", tc.text, err)
		}
		if problem.String != tc.problem || problem.Valid != (tc.problem != "") {
			t.Errorf("%s(%q) = %v, want %q", JSONProblemFunc, tc.text, problem, tc.problem)
		}
		if !strict.Valid || strict.Bool != (tc.problem == "") {
			t.Errorf("%s(%q) = %v, want %v", JSONStrictFunc, tc.text, strict, tc.problem == "")
		}
		if problemSQL != problem {
			t.Errorf("JSONProblemSQL(%q) = %v, %s says %v", tc.text, problemSQL, JSONProblemFunc, problem)
		}
		if tc.problem != problemNotJSON && !duckValid.Bool {
			t.Errorf("%q: the strict check reads it as JSON, DuckDB's json_valid does not", tc.text)
		}
	}
	var problem, problemSQL sql.NullString
	var strict sql.NullBool
	if err := s.QueryRowContext(t.Context(), strings.ReplaceAll(query, "?::VARCHAR", "NULL::VARCHAR")).Scan(&problem, &strict, &problemSQL, new(sql.NullBool)); err != nil ||
		problem.Valid || strict.Valid || problemSQL.Valid {
		t.Errorf("on NULL: %s %v, %s %v, JSONProblemSQL %v, %v; want all NULL", JSONProblemFunc, problem, JSONStrictFunc, strict, problemSQL, err)
	}
}

// TestPlainRun: the eight-bytes-at-a-time scan stops where a byte-by-byte one does,
// for every byte value at every position of a word and past its end.
func TestPlainRun(t *testing.T) {
	byteByByte := func(s string, i int) int {
		for i < len(s) && s[i] >= 0x20 && s[i] != '"' && s[i] != '\\' {
			i++
		}
		return i
	}
	for c := 0; c < 256; c++ {
		for n := 1; n <= 19; n++ {
			for at := 0; at < n; at++ {
				b := []byte(strings.Repeat("a\u00e9~ ", 4)[:n])
				for i := range b {
					if b[i] < 0x20 || b[i] == '"' || b[i] == '\\' {
						b[i] = 'x'
					}
				}
				b[at] = byte(c)
				for from := 0; from <= n; from++ {
					if got, want := plainRun(string(b), from), byteByByte(string(b), from); got != want {
						t.Fatalf("plainRun(%q, %d) = %d, want %d", b, from, got, want)
					}
				}
			}
		}
	}
}

// BenchmarkJSONProblem checks one payload of the Silver benchmark's shape.
func BenchmarkJSONProblem(b *testing.B) {
	payload := `{"event_id":"evt-00000000000f4240","user_id":"u0","event_type":"page_view","amount":0.00,"timestamp":"2026-11-21T08:00:00.000Z"}`
	for b.Loop() {
		if p := JSONProblem(payload); p != "" {
			b.Fatal(p)
		}
	}
}
