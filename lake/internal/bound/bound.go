// Package bound decodes Parquet values into the bounds of Delta file statistics and
// renders them as the log holds them, for the statistics lakectl computes from footers
// (lake/parquetstats) and those it reads from checkpoints' stats_parsed (lake).
//
//	v, ok := bound.Decode(col.Type(), value.Bytes()) // a date, timestamp, decimal, int64, float64 or string
//	stats.MinValues["at"] = bound.JSON(v)             // "2026-11-20T08:00:00.123456Z"
package bound

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"
)

// The decoded forms of a bound besides int64, float64 and string. Each compares
// within its own type (Less) and turns into the JSON value Delta expects (JSON).
type (
	// Decimal is Unscaled·10^-Scale.
	Decimal struct {
		Unscaled *big.Int
		Scale    int32
	}
	Date      int32 // days since 1970-01-01
	Timestamp int64 // microseconds since the epoch, UTC
)

// Decode turns one PLAIN-encoded value of typ (a statistics bound, or a
// parquet.Value's Bytes) into its bound form. ok is false for a type Delta keeps no
// bounds of (boolean, binary, time, INT96) and for NaN and infinities.
func Decode(typ parquet.Type, b []byte) (any, bool) {
	var logical format.LogicalTypeValue
	if lt := typ.LogicalType(); lt != nil {
		logical = lt.Value
	}
	var converted deprecated.ConvertedType = -1
	if ct := typ.ConvertedType(); ct != nil {
		converted = *ct
	}
	switch typ.Kind() {
	case parquet.Int32:
		if len(b) != 4 {
			return nil, false
		}
		v := int32(binary.LittleEndian.Uint32(b))
		switch lt := logical.(type) {
		case *format.DateType:
			return Date(v), true
		case *format.DecimalType:
			return Decimal{big.NewInt(int64(v)), lt.Scale}, true
		case *format.IntType:
			if !lt.IsSigned {
				return int64(uint32(v)), true
			}
		case *format.TimeType:
			return nil, false
		}
		if converted == deprecated.Date {
			return Date(v), true
		}
		return int64(v), true
	case parquet.Int64:
		if len(b) != 8 {
			return nil, false
		}
		v := int64(binary.LittleEndian.Uint64(b))
		switch lt := logical.(type) {
		case *format.TimestampType:
			if lt.Unit.Value == nil {
				return nil, false
			}
			return toMicros(v, lt.Unit.Value.Duration())
		case *format.DecimalType:
			return Decimal{big.NewInt(v), lt.Scale}, true
		case *format.IntType:
			if !lt.IsSigned && v < 0 {
				return nil, false // beyond int64; Delta has no unsigned type
			}
		case *format.TimeType:
			return nil, false
		}
		switch converted {
		case deprecated.TimestampMillis:
			return toMicros(v, time.Millisecond)
		case deprecated.TimestampMicros:
			return Timestamp(v), true
		}
		return v, true
	case parquet.Float:
		if len(b) != 4 {
			return nil, false
		}
		return finite(float64(math.Float32frombits(binary.LittleEndian.Uint32(b))))
	case parquet.Double:
		if len(b) != 8 {
			return nil, false
		}
		return finite(math.Float64frombits(binary.LittleEndian.Uint64(b)))
	case parquet.ByteArray, parquet.FixedLenByteArray:
		switch lt := logical.(type) {
		case *format.StringType, *format.EnumType, *format.JsonType:
			return string(b), true
		case *format.DecimalType:
			return Decimal{twosComplement(b), lt.Scale}, true
		}
		if converted == deprecated.UTF8 {
			return string(b), true
		}
		return nil, false
	}
	// BOOLEAN and INT96 (legacy timestamps, whose statistics have no defined order).
	return nil, false
}

func toMicros(v int64, unit time.Duration) (any, bool) {
	switch unit {
	case time.Millisecond:
		if v > math.MaxInt64/1000 || v < math.MinInt64/1000 {
			return nil, false
		}
		return Timestamp(v * 1000), true
	case time.Microsecond:
		return Timestamp(v), true
	case time.Nanosecond:
		// Truncate towards minus infinity, so a min stays a lower bound. A max is then
		// up to 999 ns low; Delta readers compare at microsecond precision.
		us := v / 1000
		if v%1000 < 0 {
			us--
		}
		return Timestamp(us), true
	}
	return nil, false
}

func finite(f float64) (any, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, false
	}
	return f, true
}

// twosComplement decodes a big-endian two's complement integer (Parquet's decimal bytes).
func twosComplement(b []byte) *big.Int {
	v := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(len(b))*8))
	}
	return v
}

// Less orders two bounds of the same column.
func Less(a, b any) bool {
	switch a := a.(type) {
	case int64:
		return a < b.(int64)
	case float64:
		return a < b.(float64)
	case string:
		return a < b.(string)
	case Date:
		return a < b.(Date)
	case Timestamp:
		return a < b.(Timestamp)
	case Decimal:
		return a.Unscaled.Cmp(b.(Decimal).Unscaled) < 0 // one column, one scale
	}
	return false
}

// JSON converts a bound to the JSON value of Delta statistics: a date as
// "2006-01-02", a timestamp as TimestampString has it, a decimal as an exact number.
func JSON(v any) any {
	switch v := v.(type) {
	case Date:
		return v.String()
	case Timestamp:
		return TimestampString(int64(v))
	case Decimal:
		return json.Number(v.String())
	}
	return v
}

// PartitionString renders a bound in Delta's partition value serialization: numbers
// as Go prints them, a date "2006-01-02", a timestamp "2006-01-02 15:04:05.999999"
// in UTC, a decimal exactly.
func PartitionString(v any) string {
	switch v := v.(type) {
	case Date:
		return v.String()
	case Timestamp:
		return time.UnixMicro(int64(v)).UTC().Format("2006-01-02 15:04:05.999999")
	case Decimal:
		return v.String()
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case string:
		return v
	}
	return ""
}

// TimestampString renders a timestamp bound, in microseconds since the epoch, as
// every lakectl writer puts it in statistics: RFC 3339 in UTC with all six
// fractional digits, the exact value. The protocol lets writers truncate to
// milliseconds; an exact bound skips at least as many files and needs no widening
// by a reader.
func TimestampString(us int64) string {
	return time.UnixMicro(us).UTC().Format("2006-01-02T15:04:05.000000Z07:00")
}

func (d Date) String() string { return time.Unix(int64(d)*86400, 0).UTC().Format(time.DateOnly) }

// String writes Unscaled·10^-Scale exactly, e.g. 12345, 2 -> "123.45".
func (d Decimal) String() string {
	s := d.Unscaled.String()
	if d.Scale <= 0 {
		return s + strings.Repeat("0", int(-d.Scale))
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	if len(s) <= int(d.Scale) {
		s = strings.Repeat("0", int(d.Scale)-len(s)+1) + s
	}
	s = s[:len(s)-int(d.Scale)] + "." + s[len(s)-int(d.Scale):]
	if neg {
		s = "-" + s
	}
	return s
}
