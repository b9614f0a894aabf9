package silver

import (
	"fmt"
	"math"

	"github.com/lakectl/lakectl/engine/sqlfrag"
)

// Strict conversion from JSON to the contract's types.
//
// The payload is parsed once: json_transform turns it into a struct whose members are
// JSON values, one per field. Each field then looks at its value's JSON type and
// converts it only when the conversion is exact; otherwise the typed value is NULL and
// the reason says why. What each type takes:
//
//	string        a JSON string
//	int           a JSON number with no fraction (12 or 12.0) in the 64-bit range;
//	              a non-integer spelling (12.0, 1e3) must stay below 2^53
//	double        a JSON number that is finite as a double
//	boolean       true or false
//	decimal(p,s)  a JSON number with at most s decimal places, below 10^(15-s) (what
//	              a double, which the JSON reader holds numbers in, carries exactly),
//	              or a string holding a plain decimal number ("1234567890.12", no
//	              exponent) with at most s places and at most p-s integer digits
//	timestamp     an RFC 3339 string with a zone: YYYY-MM-DDThh:mm:ss, a fraction of
//	              a second, then Z or ±hh:mm (t, z and a space for T also)
//	date          a string YYYY-MM-DD
//
// Nothing else converts: a number is not a string, "12" is not an int, 1 is not a
// boolean, an epoch number is not a timestamp (seconds, milliseconds or
// microseconds? the contract cannot tell) and a timestamp without a zone is not one.
// JSON null counts as absent.
//
// Exact means the value is the same, not the spelling: trailing zeros after the point
// change nothing, so 12.300 (number or string) is the decimal(18,2) 12.30, 12.0 is the
// int 12 and .123456000Z is a whole microsecond; .123456789Z is not, it would lose
// nanoseconds, and 12.345 would lose a cent.

// maxExactInt is 2^53: every whole double up to it is exactly one integer.
const maxExactInt = 1 << 53

// jsonValue is the field's JSON value in the parsed struct.
func jsonValue(f compiledField) sqlfrag.SQL {
	return sqlfrag.Fmt("%s.%s", colJSON, sqlfrag.Ident(f.JSONKey()))
}

// jsonTypeCol holds json_type of the field's value: 'VARCHAR', 'BIGINT', 'UBIGINT',
// 'DOUBLE', 'BOOLEAN', 'OBJECT', 'ARRAY', or NULL when absent or null.
func jsonTypeCol(f compiledField) sqlfrag.SQL { return sqlfrag.Ident("_t_" + f.Name) }

// valueCol holds the field's typed value, NULL unless it converted exactly.
func valueCol(f compiledField) sqlfrag.SQL { return sqlfrag.Ident("_v_" + f.Name) }

// jsonString is the text of a JSON string value, unquoted.
func jsonString(j sqlfrag.SQL) sqlfrag.SQL { return sqlfrag.Fmt("%s ->> '$'", j) }

// converted is the expression of f's typed value: NULL unless the JSON value converts
// exactly. jt is the column holding the value's JSON type.
func converted(f compiledField) sqlfrag.SQL {
	j, jt := jsonValue(f), jsonTypeCol(f)
	s := jsonString(j)
	asDouble := sqlfrag.Fmt("TRY_CAST(%s AS DOUBLE)", j)
	switch f.Type {
	case "string":
		return sqlfrag.Fmt("CASE WHEN %s = 'VARCHAR' THEN %s END", jt, s)
	case "int":
		return sqlfrag.Fmt("CASE WHEN %[1]s IN ('BIGINT', 'UBIGINT') THEN TRY_CAST(%[2]s AS BIGINT) "+
			"WHEN %[1]s = 'DOUBLE' AND %[3]s = trunc(%[3]s) AND abs(%[3]s) <= %[4]s THEN CAST(%[3]s AS BIGINT) END",
			jt, j, asDouble, sqlfrag.Int(maxExactInt))
	case "double":
		return sqlfrag.Fmt("CASE WHEN %s IN ('BIGINT', 'UBIGINT', 'DOUBLE') AND isfinite(%s) THEN %s END", jt, asDouble, asDouble)
	case "boolean":
		return sqlfrag.Fmt("CASE WHEN %s = 'BOOLEAN' THEN CAST(%s AS BOOLEAN) END", jt, j)
	case "timestamp":
		// DuckDB reads t and z only in upper case; after the match they are the only
		// letters.
		ts := sqlfrag.Fmt("TRY_CAST(upper(%s) AS TIMESTAMPTZ)", s)
		return sqlfrag.Fmt("CASE WHEN %s = 'VARCHAR' AND regexp_full_match(%s, %s) AND isfinite(%s) THEN %s END",
			jt, s, sqlfrag.Str(rfc3339Micros), ts, ts)
	case "date":
		return sqlfrag.Fmt("CASE WHEN %s = 'VARCHAR' AND length(%s) = 10 AND isfinite(TRY_CAST(%s AS DATE)) THEN TRY_CAST(%s AS DATE) END",
			jt, s, s, s)
	default:
		return sqlfrag.Fmt("CASE WHEN %[1]s IN ('BIGINT', 'UBIGINT') THEN TRY_CAST(%[2]s AS %[3]s) "+
			"WHEN %[1]s = 'DOUBLE' AND abs(%[4]s) < %[5]s AND CAST(TRY_CAST(%[4]s AS %[3]s) AS DOUBLE) = %[4]s THEN CAST(%[4]s AS %[3]s) "+
			"WHEN %[1]s = 'VARCHAR' AND %[6]s AND %[7]s <= %[8]s THEN TRY_CAST(%[9]s AS %[3]s) END",
			jt, j, f.duck, asDouble, exactLimit(f.scale), plainDecimal(s), decimalPlaces(s), sqlfrag.Int(int64(f.scale)), s)
	}
}

// problem is the reason for a present value that did not convert; it is evaluated
// only for such rows.
func problem(f compiledField) sqlfrag.SQL {
	j, jt := jsonValue(f), jsonTypeCol(f)
	s := jsonString(j)
	asDouble := sqlfrag.Fmt("TRY_CAST(%s AS DOUBLE)", j)
	notA := sqlfrag.Str(" is not a " + f.Type)
	if f.Type == "int" {
		notA = sqlfrag.Str(" is not an int")
	}
	outOfRange := sqlfrag.Str(" is out of range for " + f.Type)
	var why sqlfrag.SQL
	switch f.Type {
	case "int":
		why = sqlfrag.Fmt("CASE WHEN %[1]s IN ('BIGINT', 'UBIGINT') THEN %[2]s WHEN %[1]s = 'DOUBLE' AND %[3]s <> trunc(%[3]s) THEN %[4]s "+
			"WHEN %[1]s = 'DOUBLE' THEN %[2]s ELSE %[5]s END", jt, outOfRange, asDouble, sqlfrag.Str(" is not a whole number"), notA)
	case "double":
		why = sqlfrag.Fmt("CASE WHEN %s IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN %s ELSE %s END", jt, outOfRange, notA)
	case "timestamp":
		why = sqlfrag.Fmt("CASE WHEN %[1]s <> 'VARCHAR' THEN %[2]s "+
			"WHEN regexp_full_match(%[3]s, %[4]s) THEN %[5]s "+
			"WHEN regexp_full_match(%[3]s, %[6]s) THEN %[7]s "+
			"WHEN regexp_full_match(%[3]s, %[8]s) THEN %[9]s "+
			"ELSE %[2]s END",
			jt, notA,
			s, sqlfrag.Str(rfc3339Date+rfc3339Time+`\.[0-9]{6}0*[1-9][0-9]*`+rfc3339Zone), sqlfrag.Str(" is more precise than a microsecond"),
			sqlfrag.Str(rfc3339Date+rfc3339Time+rfc3339Fraction), sqlfrag.Str(" has no time zone"),
			sqlfrag.Str(rfc3339Date+rfc3339Time+rfc3339Fraction+`[+-][0-9]{2}(:?[0-9]{2})?`), sqlfrag.Str(" has a zone offset that is not ±hh:mm"))
	case "string", "boolean", "date":
		why = notA
	default:
		places := sqlfrag.Str(fmt.Sprintf(" has more than %d decimal places", f.scale))
		why = sqlfrag.Fmt("CASE WHEN %[1]s IN ('BIGINT', 'UBIGINT') THEN %[2]s "+
			"WHEN %[1]s = 'DOUBLE' AND TRY_CAST(%[3]s AS %[4]s) IS NULL THEN %[2]s "+
			"WHEN %[1]s = 'DOUBLE' AND abs(%[3]s) >= %[5]s THEN %[6]s "+
			"WHEN %[1]s = 'DOUBLE' THEN %[7]s "+
			"WHEN %[1]s = 'VARCHAR' AND %[8]s AND %[9]s > %[10]s THEN %[7]s "+
			"WHEN %[1]s = 'VARCHAR' AND %[8]s THEN %[2]s "+
			"ELSE %[11]s END",
			jt, outOfRange, asDouble, f.duck, exactLimit(f.scale), sqlfrag.Str(" has more digits than a JSON number holds exactly; send it as a string"),
			places, plainDecimal(s), decimalPlaces(s), sqlfrag.Int(int64(f.scale)), notA)
	}
	return sqlfrag.Fmt("%s || CAST(%s AS VARCHAR) || %s", sqlfrag.Str(f.Name+": "), j, why)
}

// RFC 3339 date-time in pieces (section 5.6; a space for T as its note allows).
// DuckDB's own parser is looser (single-digit fields, hour 24, a missing zone, a zone
// name), so a timestamp must match this before DuckDB reads it. rfc3339Micros takes a
// fraction with digits past the sixth only if they are zeros: those lose nothing.
const (
	rfc3339Date     = `[0-9]{4}-[0-9]{2}-[0-9]{2}`
	rfc3339Time     = `[Tt ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]`
	rfc3339Fraction = `(\.[0-9]+)?`
	rfc3339Zone     = `([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])`
	rfc3339Micros   = rfc3339Date + rfc3339Time + `(\.[0-9]{1,6}0*)?` + rfc3339Zone
)

// plainDecimal says whether a string is a decimal number without exponent.
func plainDecimal(s sqlfrag.SQL) sqlfrag.SQL {
	return sqlfrag.Fmt(`regexp_full_match(%s, '[+-]?[0-9]+(\.[0-9]+)?')`, s)
}

// decimalPlaces counts the digits after the point of a plain decimal string, less
// trailing zeros, which do not change the value.
func decimalPlaces(s sqlfrag.SQL) sqlfrag.SQL {
	return sqlfrag.Fmt("CASE WHEN strpos(%[1]s, '.') > 0 THEN length(rtrim(%[1]s, '0')) - strpos(%[1]s, '.') ELSE 0 END", s)
}

// exactLimit is the magnitude below which a double tells every value of the scale
// apart: 15 significant digits survive the trip through a double.
func exactLimit(scale int) sqlfrag.SQL {
	return sqlfrag.MustFloat(math.Pow10(15 - scale))
}
