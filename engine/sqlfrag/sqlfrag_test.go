package sqlfrag

import (
	"math"
	"testing"
)

func TestFragments(t *testing.T) {
	cases := []struct {
		name string
		got  SQL
		want string
	}{
		{"identifier", Ident(`a"b`), `"a""b"`},
		{"qualified", Qualified("ref", `x"y`), `"ref"."x""y"`},
		{"string", Str("it's"), `'it''s'`},
		{"string list", StrList([]string{"a", "b'c"}), `['a', 'b''c']`},
		{"int", Int(-42), `-42`},
		{"float", MustFloat(0.5), `0.5`},
		{"big float", MustFloat(1e300), `1e+300`},
		{"decimal", Decimal(18, 2), `DECIMAL(18,2)`},
		{"fmt", Fmt("%[2]s < %[1]s AND %s%%", Int(1), Ident("x")), `"x" < 1 AND "x"%`},
		{"list", List(Ident("a"), Ident("b")), `"a", "b"`},
		{"query", Query("SELECT 1"), `(SELECT 1)`},
	}
	for _, tc := range cases {
		if tc.got.String() != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, tc.got, tc.want)
		}
	}
}

// TestNonFiniteNumbersAreRefused: NaN and infinities have no SQL literal; written as
// text they read as column names, which is how `min: NaN` once reached DuckDB.
func TestNonFiniteNumbersAreRefused(t *testing.T) {
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if s, err := Float(f); err == nil {
			t.Errorf("Float(%v) = %s, want an error", f, s)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("MustFloat(NaN) did not panic")
		}
	}()
	MustFloat(math.NaN())
}

func TestFmtRefusesOtherVerbs(t *testing.T) {
	for _, format := range []constant{"%d", "%v", "%[1]d", "x %"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Fmt(%q) did not panic", format)
				}
			}()
			Fmt(format, Int(1))
		}()
	}
}

func TestBuilder(t *testing.T) {
	var b Builder
	b.Line(0, Const("SELECT "), Ident("a"))
	b.Line(1, Const("FROM "), Ident("t"))
	if got, want := b.SQL().String(), "SELECT \"a\"\n  FROM \"t\"\n"; got != want {
		t.Errorf("built %q, want %q", got, want)
	}
}
