package engine

import (
	"testing"

	"github.com/lakectl/lakectl/engine/sqlfrag"
	"github.com/lakectl/lakectl/lake"
)

// TestBoundTypesNameWhatDuckTypeWrites: for every scalar Delta type, the type that
// DuckDB binds a column of DuckType's type to is named as DuckType writes it, so a
// view bound to the log's types is recognised as such; a type DuckType never writes
// matches none.
func TestBoundTypesNameWhatDuckTypeWrites(t *testing.T) {
	s := openSession(t)
	var casts []sqlfrag.SQL
	var want []string
	for _, name := range []string{"long", "integer", "short", "byte", "float", "double", "boolean", "string", "binary", "date", "timestamp", "decimal(18,2)", "decimal(38,0)", "decimal(4,4)"} {
		dt, err := DuckType(lake.Primitive(name))
		if err != nil {
			t.Fatal(err)
		}
		casts = append(casts, sqlfrag.Fmt("CAST(NULL AS %s)", dt))
		want = append(want, dt.String())
	}
	got, err := s.boundTypes(t.Context(), sqlfrag.Fmt("SELECT %s", sqlfrag.List(casts...)).String())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d types, want %d", len(got), len(want))
	}
	for i := range want {
		if !sameType(got[i], want[i]) {
			t.Errorf("column %d: bound to %q, want %q", i, got[i], want[i])
		}
	}
	other, err := s.boundTypes(t.Context(), "SELECT TIMESTAMP '2026-11-27 00:00:00', HUGEINT '1', UUID '00000000-0000-0000-0000-000000000000'")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range other {
		for _, w := range want {
			if sameType(o, w) {
				t.Errorf("a type DuckType never writes is named %q, as %q is", o, w)
			}
		}
	}
}
