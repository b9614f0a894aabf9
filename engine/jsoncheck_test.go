package engine

import (
	"database/sql"
	"strings"
	"testing"
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

// TestJSONProblemAgreesWithDuckDB: the SQL function says what JSONProblem says, and
// everything it accepts DuckDB's reader accepts too, so json_transform never fails on
// a payload that passed; the lenient forms DuckDB takes (trailing commas, NaN) are
// the ones it refuses.
func TestJSONProblemAgreesWithDuckDB(t *testing.T) {
	s := openSession(t)
	for _, tc := range jsonCases {
		var problem sql.NullString
		var duckValid sql.NullBool
		if err := s.QueryRowContext(t.Context(), "SELECT "+JSONProblemFunc+"(?), json_valid(?)", tc.text, tc.text).Scan(&problem, &duckValid); err != nil {
			t.Fatalf("%q: %v", tc.text, err)
		}
		if problem.String != tc.problem {
			t.Errorf("%s(%q) = %q, want %q", JSONProblemFunc, tc.text, problem.String, tc.problem)
		}
		if tc.problem != problemNotJSON && !duckValid.Bool {
			t.Errorf("%q: the strict check reads it as JSON, DuckDB's json_valid does not", tc.text)
		}
	}
	var problem sql.NullString
	if err := s.QueryRowContext(t.Context(), "SELECT "+JSONProblemFunc+"(NULL)").Scan(&problem); err != nil || problem.Valid {
		t.Errorf("%s(NULL) = %v, %v; want NULL", JSONProblemFunc, problem, err)
	}
}
