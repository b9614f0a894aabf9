package footercheck

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/parquetstats"
)

// boundedTypes are the Delta types whose min/max every lakectl writer records.
// Binary and boolean bounds skip nothing and are left out; nested columns get
// none at the top level.
var boundedTypes = map[string]bool{
	"string": true, "long": true, "integer": true, "short": true, "byte": true,
	"float": true, "double": true, "date": true, "timestamp": true,
}

// statsProblems compares the add's per-column statistics with what DuckDB computes
// from the file: for every top-level primitive column, nullCount exactly, and for
// the bounded types minValues and maxValues exactly, timestamps to the microsecond,
// strings cut as the protocol allows (a minimum to its first
// parquetstats.MaxStringPrefix characters, a longer maximum left out).
func statsProblems(ctx context.Context, db *sql.DB, path string, a lake.Add, schema *lake.Schema, partitionCols []string) []string {
	if a.Stats == "" {
		return nil // checkFile reports the missing stats
	}
	dec := json.NewDecoder(strings.NewReader(a.Stats))
	dec.UseNumber()
	var st struct {
		MinValues map[string]any `json:"minValues"`
		MaxValues map[string]any `json:"maxValues"`
		NullCount map[string]any `json:"nullCount"`
	}
	if err := dec.Decode(&st); err != nil {
		return nil // checkFile reports stats that do not parse
	}
	var cols []lake.Field
	var sel []string
	for _, f := range schema.Fields {
		if !f.DataType.IsPrimitive() || slices.Contains(partitionCols, f.Name) {
			continue
		}
		q := `"` + strings.ReplaceAll(f.Name, `"`, `""`) + `"`
		lo, hi := "min("+q+")::VARCHAR", "max("+q+")::VARCHAR"
		if f.DataType.Name == "timestamp" {
			lo, hi = "epoch_us(min("+q+"))::VARCHAR", "epoch_us(max("+q+"))::VARCHAR"
		}
		cols = append(cols, f)
		sel = append(sel, "count(*) - count("+q+")", lo, hi)
	}
	if len(cols) == 0 {
		return nil
	}
	vals := make([]sql.NullString, len(sel))
	ptrs := make([]any, len(sel))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := db.QueryRowContext(ctx, "SELECT "+strings.Join(sel, ", ")+" FROM read_parquet($1)", path).Scan(ptrs...); err != nil {
		return []string{fmt.Sprintf("read the file's columns: %v", err)}
	}
	var problems []string
	for i, f := range cols {
		nulls, lo, hi := vals[3*i], vals[3*i+1], vals[3*i+2]
		if got, ok := st.NullCount[f.Name]; !ok || fmt.Sprint(got) != nulls.String {
			problems = append(problems, fmt.Sprintf("stats: nullCount.%s is %v, the file has %s nulls", f.Name, orAbsent(got, ok), nulls.String))
		}
		if _, _, isDecimal := f.DataType.DecimalParams(); !boundedTypes[f.DataType.Name] && !isDecimal {
			continue
		}
		if !lo.Valid {
			continue // every value null: a bound would carry no information
		}
		gotLo, okLo := st.MinValues[f.Name]
		gotHi, okHi := st.MaxValues[f.Name]
		wantLo, wantHi := lo.String, hi.String
		typ := f.DataType.Name
		loOK, hiOK := okLo && sameValue(typ, gotLo, wantLo), okHi && sameValue(typ, gotHi, wantHi)
		if typ == "string" {
			wantLo = cut(wantLo)
			loOK = okLo && gotLo == wantLo
			if utf8.RuneCountInString(wantHi) > parquetstats.MaxStringPrefix {
				wantHi, hiOK = "(absent: longer than the prefix)", !okHi
			}
		}
		if !loOK {
			problems = append(problems, fmt.Sprintf("stats: minValues.%s is %v, the file's minimum is %s", f.Name, orAbsent(gotLo, okLo), show(f, wantLo)))
		}
		if !hiOK {
			problems = append(problems, fmt.Sprintf("stats: maxValues.%s is %v, the file's maximum is %s", f.Name, orAbsent(gotHi, okHi), show(f, wantHi)))
		}
	}
	return problems
}

func orAbsent(v any, ok bool) any {
	if !ok {
		return "absent"
	}
	return v
}

// show renders DuckDB's value for a message: a timestamp's microseconds as a time.
func show(f lake.Field, v string) string {
	if f.DataType.Name == "timestamp" {
		var us int64
		if _, err := fmt.Sscan(v, &us); err == nil {
			return time.UnixMicro(us).UTC().Format("2006-01-02T15:04:05.000000Z")
		}
	}
	return v
}

func cut(s string) string {
	if utf8.RuneCountInString(s) <= parquetstats.MaxStringPrefix {
		return s
	}
	return string([]rune(s)[:parquetstats.MaxStringPrefix])
}

// sameValue reports whether a stats value (a JSON number or string) is DuckDB's
// text of the same value.
func sameValue(typ string, got any, duck string) bool {
	switch typ {
	case "timestamp":
		s, ok := got.(string)
		t, err := time.Parse(time.RFC3339Nano, s)
		var us int64
		_, err2 := fmt.Sscan(duck, &us)
		return ok && err == nil && err2 == nil && t.UnixMicro() == us && t.Equal(time.UnixMicro(us))
	case "date", "string":
		s, ok := got.(string)
		return ok && s == duck
	}
	// Numbers, decimals included: equal as exact rationals.
	n, ok := got.(json.Number)
	if !ok {
		return false
	}
	a, okA := new(big.Rat).SetString(string(n))
	b, okB := new(big.Rat).SetString(duck)
	return okA && okB && a.Cmp(b) == 0
}
