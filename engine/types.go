package engine

import (
	"fmt"
	"strings"

	"github.com/lakectl/lakectl/engine/sqlfrag"
	"github.com/lakectl/lakectl/lake"
)

// DuckType returns the DuckDB type that holds values of a Delta type. Delta timestamps
// are UTC instants, so they are TIMESTAMPTZ (microseconds); timestamp_ntz is refused, as
// lakectl refuses tables that need it.
func DuckType(t lake.DataType) (sqlfrag.SQL, error) {
	switch t.Name {
	case "long":
		return sqlfrag.Const("BIGINT"), nil
	case "integer":
		return sqlfrag.Const("INTEGER"), nil
	case "short":
		return sqlfrag.Const("SMALLINT"), nil
	case "byte":
		return sqlfrag.Const("TINYINT"), nil
	case "float":
		return sqlfrag.Const("FLOAT"), nil
	case "double":
		return sqlfrag.Const("DOUBLE"), nil
	case "boolean":
		return sqlfrag.Const("BOOLEAN"), nil
	case "string":
		return sqlfrag.Const("VARCHAR"), nil
	case "binary":
		return sqlfrag.Const("BLOB"), nil
	case "date":
		return sqlfrag.Const("DATE"), nil
	case "timestamp":
		return sqlfrag.Const("TIMESTAMPTZ"), nil
	case "timestamp_ntz":
		return sqlfrag.SQL{}, &lake.UnsupportedError{Feature: "timestamp_ntz"}
	case "struct":
		parts := make([]sqlfrag.SQL, len(t.Fields))
		for i, f := range t.Fields {
			ft, err := DuckType(f.DataType)
			if err != nil {
				return sqlfrag.SQL{}, fmt.Errorf("field %s: %w", f.Name, err)
			}
			parts[i] = sqlfrag.Fmt("%s %s", sqlfrag.Ident(f.Name), ft)
		}
		return sqlfrag.Fmt("STRUCT(%s)", sqlfrag.List(parts...)), nil
	case "array":
		et, err := DuckType(*t.Element)
		if err != nil {
			return sqlfrag.SQL{}, fmt.Errorf("array element: %w", err)
		}
		return sqlfrag.Fmt("%s[]", et), nil
	case "map":
		kt, err := DuckType(*t.Key)
		if err != nil {
			return sqlfrag.SQL{}, fmt.Errorf("map key: %w", err)
		}
		vt, err := DuckType(*t.Value)
		if err != nil {
			return sqlfrag.SQL{}, fmt.Errorf("map value: %w", err)
		}
		return sqlfrag.Fmt("MAP(%s, %s)", kt, vt), nil
	}
	if p, s, ok := t.DecimalParams(); ok {
		if p < 1 || p > 38 || s < 0 || s > p {
			return sqlfrag.SQL{}, fmt.Errorf("decimal(%d,%d) out of range", p, s)
		}
		return sqlfrag.Decimal(p, s), nil
	}
	return sqlfrag.SQL{}, fmt.Errorf("delta type %q has no DuckDB type", t.Name)
}

// DeltaType returns the Delta type for a DuckDB column type as database/sql reports it
// (ColumnType.DatabaseTypeName), for writing query results as a table. Every timestamp
// becomes timestamp: WriteFiles stores them as UTC microseconds.
func DeltaType(duck string) (lake.DataType, error) {
	d := strings.TrimSpace(duck)
	switch d {
	case "BIGINT":
		return lake.Primitive("long"), nil
	case "INTEGER":
		return lake.Primitive("integer"), nil
	case "SMALLINT":
		return lake.Primitive("short"), nil
	case "TINYINT":
		return lake.Primitive("byte"), nil
	case "FLOAT":
		return lake.Primitive("float"), nil
	case "DOUBLE":
		return lake.Primitive("double"), nil
	case "BOOLEAN":
		return lake.Primitive("boolean"), nil
	case "VARCHAR":
		return lake.Primitive("string"), nil
	case "BLOB":
		return lake.Primitive("binary"), nil
	case "DATE":
		return lake.Primitive("date"), nil
	case "TIMESTAMP", "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS":
		return lake.Primitive("timestamp"), nil
	}
	if inner, ok := strings.CutSuffix(d, "[]"); ok {
		et, err := DeltaType(inner)
		if err != nil {
			return lake.DataType{}, err
		}
		return lake.ArrayOf(et, true), nil
	}
	if inner, ok := cutWrapped(d, "DECIMAL("); ok {
		var p, s int
		if _, err := fmt.Sscanf(inner, "%d,%d", &p, &s); err != nil {
			return lake.DataType{}, fmt.Errorf("duckdb type %s: %w", duck, err)
		}
		return lake.Decimal(p, s), nil
	}
	if inner, ok := cutWrapped(d, "MAP("); ok {
		parts := splitTop(inner)
		if len(parts) != 2 {
			return lake.DataType{}, fmt.Errorf("duckdb type %s: map needs key and value", duck)
		}
		k, err := DeltaType(parts[0])
		if err != nil {
			return lake.DataType{}, err
		}
		v, err := DeltaType(parts[1])
		if err != nil {
			return lake.DataType{}, err
		}
		return lake.MapOf(k, v, true), nil
	}
	if inner, ok := cutWrapped(d, "STRUCT("); ok {
		var fields []lake.Field
		for _, part := range splitTop(inner) {
			name, typ, err := splitField(part)
			if err != nil {
				return lake.DataType{}, fmt.Errorf("duckdb type %s: %w", duck, err)
			}
			ft, err := DeltaType(typ)
			if err != nil {
				return lake.DataType{}, err
			}
			fields = append(fields, lake.NewField(name, ft, true))
		}
		return lake.StructOf(fields...), nil
	}
	return lake.DataType{}, fmt.Errorf("duckdb type %s has no Delta type", duck)
}

func cutWrapped(s, prefix string) (string, bool) {
	inner, ok := strings.CutPrefix(s, prefix)
	if !ok || !strings.HasSuffix(inner, ")") {
		return "", false
	}
	return inner[:len(inner)-1], true
}

// splitTop splits a type list at the commas that are not inside parentheses or quotes.
func splitTop(s string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == ',' && depth == 0:
			out = append(out, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

// splitField splits `"name" TYPE` or `name TYPE` of a STRUCT type.
func splitField(part string) (name, typ string, err error) {
	if strings.HasPrefix(part, `"`) {
		for i := 1; i < len(part); i++ {
			if part[i] != '"' {
				continue
			}
			if i+1 < len(part) && part[i+1] == '"' {
				i++
				continue
			}
			return strings.ReplaceAll(part[1:i], `""`, `"`), strings.TrimSpace(part[i+1:]), nil
		}
		return "", "", fmt.Errorf("unterminated field name in %q", part)
	}
	name, typ, ok := strings.Cut(part, " ")
	if !ok {
		return "", "", fmt.Errorf("field without type: %q", part)
	}
	return name, strings.TrimSpace(typ), nil
}
