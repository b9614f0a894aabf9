package pgwire

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/jackc/pgx/v5/pgtype"
)

// pgType is how a DuckDB column goes over the wire: its PostgreSQL type and the
// conversion of DuckDB's Go values to values that pgtype encodes for that type.
type pgType struct {
	oid     uint32
	convert func(any) (any, error)
}

// typeOf maps a DuckDB type name (sql.ColumnType.DatabaseTypeName) to its PostgreSQL
// type. Integers that int8 cannot hold go as numeric, nested values as json, and
// whatever has no counterpart here (TIME, INTERVAL, UUID, ENUM) as text.
func typeOf(duck string) pgType {
	t := strings.ToUpper(duck)
	switch {
	case strings.HasSuffix(t, "]") || strings.HasPrefix(t, "STRUCT") || strings.HasPrefix(t, "MAP") ||
		strings.HasPrefix(t, "UNION") || strings.HasPrefix(t, "LIST") || t == "JSON":
		return pgType{pgtype.JSONOID, toJSON}
	case strings.HasPrefix(t, "DECIMAL"):
		return pgType{pgtype.NumericOID, toNumeric}
	}
	switch t {
	case "TINYINT", "SMALLINT", "INTEGER", "UTINYINT", "USMALLINT":
		return pgType{pgtype.Int4OID, toInt32}
	case "BIGINT", "UINTEGER":
		return pgType{pgtype.Int8OID, toInt64}
	case "UBIGINT", "HUGEINT", "UHUGEINT":
		return pgType{pgtype.NumericOID, toNumeric}
	case "FLOAT", "DOUBLE":
		return pgType{pgtype.Float8OID, toFloat64}
	case "BOOLEAN":
		return pgType{pgtype.BoolOID, same}
	case "DATE":
		return pgType{pgtype.DateOID, same}
	case "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS":
		return pgType{pgtype.TimestampOID, same}
	case "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE":
		return pgType{pgtype.TimestamptzOID, same}
	case "BLOB":
		return pgType{pgtype.ByteaOID, same}
	}
	return pgType{pgtype.TextOID, toText}
}

func same(v any) (any, error) { return v, nil }

func toInt64(v any) (any, error) {
	switch n := v.(type) {
	case int8:
		return int64(n), nil
	case int16:
		return int64(n), nil
	case int32:
		return int64(n), nil
	case int64:
		return n, nil
	case uint8:
		return int64(n), nil
	case uint16:
		return int64(n), nil
	case uint32:
		return int64(n), nil
	}
	return nil, fmt.Errorf("convert %T to int8", v)
}

func toInt32(v any) (any, error) {
	n, err := toInt64(v)
	if err != nil {
		return nil, err
	}
	return int32(n.(int64)), nil
}

func toFloat64(v any) (any, error) {
	switch n := v.(type) {
	case float32:
		return float64(n), nil
	case float64:
		return n, nil
	}
	return nil, fmt.Errorf("convert %T to float8", v)
}

func toNumeric(v any) (any, error) {
	switch n := v.(type) {
	case duckdb.Decimal:
		return pgtype.Numeric{Int: n.Value, Exp: -int32(n.Scale), Valid: true}, nil
	case *big.Int:
		return pgtype.Numeric{Int: n, Valid: true}, nil
	case uint64:
		return pgtype.Numeric{Int: new(big.Int).SetUint64(n), Valid: true}, nil
	}
	return nil, fmt.Errorf("convert %T to numeric", v)
}

func toText(v any) (any, error) {
	switch s := v.(type) {
	case string:
		return s, nil
	case []byte:
		return string(s), nil
	case duckdb.UUID:
		return (&s).String(), nil
	case *duckdb.UUID:
		return s.String(), nil
	case time.Time:
		return s.Format("15:04:05.999999"), nil // TIME, the only time that comes as text
	}
	return fmt.Sprint(v), nil
}

// toJSON writes a nested value as JSON text; pgtype sends []byte as it is.
func toJSON(v any) (any, error) {
	if s, ok := v.(string); ok { // a JSON column is its text already
		return []byte(s), nil
	}
	b, err := json.Marshal(jsonable(v))
	if err != nil {
		return nil, fmt.Errorf("convert %T to json: %w", v, err)
	}
	return b, nil
}

// jsonable makes DuckDB's MAP values, whose keys may be of any type, into objects
// with text keys, and decimals into numbers.
func jsonable(v any) any {
	switch x := v.(type) {
	case duckdb.Map:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = jsonable(e)
		}
		return m
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = jsonable(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = jsonable(e)
		}
		return l
	case duckdb.Decimal:
		return json.Number(x.String())
	case *big.Int:
		return json.Number(x.String())
	}
	return v
}

// pgTypes are the rows of the session's pg_type: the types typeOf sends, and those
// the catalog's own columns have. sqlName is what format_type says.
var pgTypes = []struct {
	oid           uint32
	name, sqlName string
	length        int
	category      string
}{
	{pgtype.BoolOID, "bool", "boolean", 1, "B"},
	{pgtype.ByteaOID, "bytea", "bytea", -1, "U"},
	{pgtype.NameOID, "name", "name", 64, "S"},
	{pgtype.Int8OID, "int8", "bigint", 8, "N"},
	{pgtype.Int2OID, "int2", "smallint", 2, "N"},
	{pgtype.Int4OID, "int4", "integer", 4, "N"},
	{pgtype.TextOID, "text", "text", -1, "S"},
	{pgtype.OIDOID, "oid", "oid", 4, "N"},
	{pgtype.JSONOID, "json", "json", -1, "U"},
	{pgtype.Float4OID, "float4", "real", 4, "N"},
	{pgtype.Float8OID, "float8", "double precision", 8, "N"},
	{pgtype.VarcharOID, "varchar", "character varying", -1, "S"},
	{pgtype.DateOID, "date", "date", 4, "D"},
	{pgtype.TimestampOID, "timestamp", "timestamp without time zone", 8, "D"},
	{pgtype.TimestamptzOID, "timestamptz", "timestamp with time zone", 8, "D"},
	{pgtype.NumericOID, "numeric", "numeric", -1, "N"},
}

// extendTypes changes how pgtype encodes what PostgreSQL writes otherwise: a
// timestamptz in text ends in the zone offset, "+00" in the session's zone UTC,
// where pgtype writes "Z", which pgjdbc (Metabase) cannot read.
func extendTypes(m *pgtype.Map) {
	m.RegisterType(&pgtype.Type{Name: "timestamptz", OID: pgtype.TimestamptzOID, Codec: timestamptzCodec{&pgtype.TimestamptzCodec{}}})
}

type timestamptzCodec struct{ *pgtype.TimestamptzCodec }

func (c timestamptzCodec) PlanEncode(m *pgtype.Map, oid uint32, format int16, value any) pgtype.EncodePlan {
	if _, ok := value.(time.Time); ok && format == pgtype.TextFormatCode {
		return timestamptzText{}
	}
	return c.TimestamptzCodec.PlanEncode(m, oid, format, value)
}

type timestamptzText struct{}

func (timestamptzText) Encode(value any, buf []byte) ([]byte, error) {
	return value.(time.Time).UTC().AppendFormat(buf, "2006-01-02 15:04:05.999999+00"), nil
}
