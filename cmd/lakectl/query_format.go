package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

// Query results print the way DuckDB itself prints them, so that what an analyst sees
// is what DuckDB's CLI shows, and csv and json read back into the same values: the
// table format and csv take each value as CAST(value AS VARCHAR) writes it (a DATE as
// 2026-11-27, a DECIMAL(18,2) with its two digits, a TIMESTAMPTZ in UTC as
// 2026-11-27 08:00:00+00), and json writes what DuckDB's to_json writes. The driver
// hands over Go values (a DATE is a time.Time), so each column's DuckDB type says
// how to print its values.

// colType is a result column's DuckDB type, as far as printing needs it.
type colType struct {
	name     string    // upper case, without arguments: DATE, DECIMAL, LIST, STRUCT, MAP, ...
	elem     *colType  // LIST and ARRAY
	fields   []colType // STRUCT, in order
	field    string    // the field name, for a STRUCT's fields
	key, val *colType  // MAP
}

// parseColType reads a type as DuckDB names it in a result: DATE, DECIMAL(18,2),
// VARCHAR[], INTEGER[2], STRUCT("a" DATE, b INTEGER), MAP(VARCHAR, INTEGER).
func parseColType(s string) colType {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "]") {
		if i := strings.LastIndexByte(s, '['); i > 0 {
			elem := parseColType(s[:i])
			return colType{name: "LIST", elem: &elem}
		}
	}
	name, args, ok := strings.Cut(s, "(")
	name = strings.ToUpper(strings.TrimSpace(name))
	if !ok || !strings.HasSuffix(args, ")") {
		return colType{name: name}
	}
	parts := splitTypeArgs(args[:len(args)-1])
	switch name {
	case "STRUCT":
		t := colType{name: name}
		for _, p := range parts {
			fname, ftype := splitFieldDef(p)
			f := parseColType(ftype)
			f.field = fname
			t.fields = append(t.fields, f)
		}
		return t
	case "MAP":
		if len(parts) == 2 {
			k, v := parseColType(parts[0]), parseColType(parts[1])
			return colType{name: name, key: &k, val: &v}
		}
	}
	return colType{name: name}
}

// splitTypeArgs splits a type's arguments at the commas outside parentheses and quotes.
func splitTypeArgs(s string) []string {
	var out []string
	depth, start, quoted := 0, 0, false
	for i, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
		case quoted:
		case r == '(' || r == '[':
			depth++
		case r == ')' || r == ']':
			depth--
		case r == ',' && depth == 0:
			out = append(out, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

// splitFieldDef splits `"a b" DATE` or `a DATE` into the name and the type.
func splitFieldDef(s string) (name, typ string) {
	if strings.HasPrefix(s, `"`) {
		for i := 1; i < len(s); i++ {
			if s[i] != '"' {
				continue
			}
			if i+1 < len(s) && s[i+1] == '"' {
				i++
				continue
			}
			return strings.ReplaceAll(s[1:i], `""`, `"`), strings.TrimSpace(s[i+1:])
		}
	}
	name, typ, _ = strings.Cut(s, " ")
	return name, strings.TrimSpace(typ)
}

// duckText is v as DuckDB's CAST(v AS VARCHAR) writes it; v is not nil.
func duckText(t colType, v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return duckFloat(x, 64)
	case float32:
		return duckFloat(float64(x), 32)
	case *big.Int:
		return x.String()
	case duckdb.Decimal:
		return decimalText(x)
	case time.Time:
		return timeText(t.name, x)
	case duckdb.Interval:
		return intervalText(x)
	case []byte:
		if t.name == "UUID" && len(x) == 16 {
			h := hex.EncodeToString(x)
			return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
		}
		return blobText(x)
	case []any:
		elem := colType{}
		if t.elem != nil {
			elem = *t.elem
		}
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = nestedText(elem, e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		parts := make([]string, 0, len(x))
		for _, f := range t.fields {
			parts = append(parts, singleQuoted(f.field)+": "+nestedText(f, x[f.field]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case duckdb.OrderedMap:
		var k, val colType
		if t.key != nil {
			k, val = *t.key, *t.val
		}
		keys, vals := x.Keys(), x.Values()
		parts := make([]string, len(keys))
		for i := range keys {
			parts[i] = nestedText(k, keys[i]) + "=" + nestedText(val, vals[i])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case duckdb.Union:
		return nestedText(colType{}, x.Value)
	}
	return fmt.Sprint(v)
}

// nestedText is a value inside a LIST, STRUCT or MAP: NULL spelled out, and strings
// quoted where DuckDB quotes them.
func nestedText(t colType, v any) string {
	if v == nil {
		return "NULL"
	}
	if s, ok := v.(string); ok {
		return quoteNested(s)
	}
	return duckText(t, v)
}

// quoteNested quotes a string inside a nested value where it would otherwise read as
// part of the structure, as DuckDB does: ['a,b', x y] (and an empty string quoted).
func quoteNested(s string) string {
	if s != "" && !strings.ContainsAny(s, `,'"\[]{}():=`) && strings.TrimSpace(s) == s && !strings.EqualFold(s, "null") {
		return s
	}
	return singleQuoted(s)
}

// singleQuoted quotes s as DuckDB quotes strings in nested values (and a STRUCT's keys
// always): 'it\'s'.
func singleQuoted(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// duckFloat writes a float as DuckDB does: the shortest digits that read back, in
// positional notation with at least one decimal (1.0, 0.0001) from 1e-4 to below 1e16,
// else with an exponent (1e+16, 1e-05); inf, -inf, nan.
func duckFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	e := strconv.FormatFloat(f, 'e', -1, bits)
	exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	if f != 0 && (exp < -4 || exp >= 16) {
		return e
	}
	s := strconv.FormatFloat(f, 'f', -1, bits)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// decimalText writes all the digits of the decimal's scale: 0.50, 100000.00.
func decimalText(d duckdb.Decimal) string {
	digits := new(big.Int).Abs(d.Value).String()
	sign := ""
	if d.Value.Sign() < 0 {
		sign = "-"
	}
	scale := int(d.Scale)
	if scale == 0 {
		return sign + digits
	}
	if len(digits) <= scale {
		digits = strings.Repeat("0", scale-len(digits)+1) + digits
	}
	return sign + digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
}

// timeText writes a DATE, TIME or TIMESTAMP value: fractions of a second only as far
// as they go, a TIMESTAMPTZ in UTC (the session's time zone) with +00.
func timeText(typ string, t time.Time) string {
	switch typ {
	case "DATE":
		return t.Format(time.DateOnly)
	case "TIME", "TIME_NS":
		return t.Format("15:04:05.999999999")
	case "TIMETZ", "TIME WITH TIME ZONE":
		return t.Format("15:04:05.999999") + utcOffset(t)
	case "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE":
		return t.UTC().Format("2006-01-02 15:04:05.999999") + "+00"
	}
	return t.UTC().Format("2006-01-02 15:04:05.999999999")
}

// utcOffset writes a zone offset as DuckDB does: +02, +05:30, -03.
func utcOffset(t time.Time) string {
	_, off := t.Zone()
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	s := fmt.Sprintf("%s%02d", sign, off/3600)
	if m := off % 3600 / 60; m != 0 {
		s += fmt.Sprintf(":%02d", m)
	}
	return s
}

// intervalText writes an interval as DuckDB does: 1 year 2 months 3 days 04:05:06.5.
func intervalText(iv duckdb.Interval) string {
	var parts []string
	unit := func(n int64, name string) {
		switch {
		case n == 1 || n == -1:
			parts = append(parts, fmt.Sprintf("%d %s", n, name))
		case n != 0:
			parts = append(parts, fmt.Sprintf("%d %ss", n, name))
		}
	}
	unit(int64(iv.Months/12), "year")
	unit(int64(iv.Months%12), "month")
	unit(int64(iv.Days), "day")
	if us := iv.Micros; us != 0 {
		sign := ""
		if us < 0 {
			sign, us = "-", -us
		}
		s := fmt.Sprintf("%s%02d:%02d:%02d", sign, us/3_600_000_000, us/60_000_000%60, us/1_000_000%60)
		if frac := us % 1_000_000; frac != 0 {
			s += strings.TrimRight(fmt.Sprintf(".%06d", frac), "0")
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return "00:00:00"
	}
	return strings.Join(parts, " ")
}

// blobText writes bytes as DuckDB does: printable ASCII as is, every other byte (and
// the quotes and the backslash) as \xHH.
func blobText(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		if c >= 0x20 && c <= 0x7e && c != '\\' && c != '\'' && c != '"' {
			s.WriteByte(c)
		} else {
			fmt.Fprintf(&s, `\x%02X`, c)
		}
	}
	return s.String()
}

// duckJSON is v as DuckDB's to_json writes it: numbers (decimals with all their
// digits) as JSON numbers, nested values as arrays and objects, and every other value
// as a string of its text (a DATE as "2026-11-27").
func duckJSON(t colType, v any) []byte {
	switch x := v.(type) {
	case nil:
		return []byte("null")
	case bool, int8, int16, int32, int64, uint8, uint16, uint32, uint64, int, uint:
		return []byte(fmt.Sprint(x))
	case *big.Int:
		return []byte(x.String())
	case duckdb.Decimal:
		return []byte(decimalText(x))
	case float64, float32:
		f, bits := reflectFloat(x)
		switch {
		case math.IsNaN(f) || math.IsInf(f, 0):
			return jsonString(duckText(t, v)) // JSON has no such number
		case f == math.Trunc(f) && math.Abs(f) < 1e21:
			// Whole numbers with a decimal, as DuckDB writes them: 100.0, 1e16 in full.
			return []byte(strconv.FormatFloat(f, 'f', -1, bits) + ".0")
		}
		return []byte(duckFloat(f, bits))
	case string:
		return jsonString(x)
	case []any:
		elem := colType{}
		if t.elem != nil {
			elem = *t.elem
		}
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = string(duckJSON(elem, e))
		}
		return []byte("[" + strings.Join(parts, ",") + "]")
	case map[string]any:
		parts := make([]string, 0, len(x))
		for _, f := range t.fields {
			parts = append(parts, string(jsonString(f.field))+":"+string(duckJSON(f, x[f.field])))
		}
		return []byte("{" + strings.Join(parts, ",") + "}")
	case duckdb.OrderedMap:
		var k, val colType
		if t.key != nil {
			k, val = *t.key, *t.val
		}
		keys, vals := x.Keys(), x.Values()
		parts := make([]string, len(keys))
		for i := range keys {
			parts[i] = string(jsonString(duckText(k, keys[i]))) + ":" + string(duckJSON(val, vals[i]))
		}
		return []byte("{" + strings.Join(parts, ",") + "}")
	case duckdb.Union:
		return duckJSON(colType{}, x.Value)
	}
	return jsonString(duckText(t, v))
}

func reflectFloat(v any) (float64, int) {
	if f, ok := v.(float32); ok {
		return float64(f), 32
	}
	return v.(float64), 64
}

// jsonString is s as a JSON string, with <, > and & as they are.
func jsonString(s string) []byte {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return []byte(strings.TrimSuffix(b.String(), "\n"))
}

// csvField writes one csv field as DuckDB's CSV writer does: NULL as an empty field,
// the empty string as "", and quotes around a value with a comma, a quote or a line
// break in it (quotes doubled).
func csvField(s string, null bool) string {
	switch {
	case null:
		return ""
	case s == "":
		return `""`
	case strings.ContainsAny(s, ",\"\n\r"):
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}
