package parquetstats

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"math/big"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"
)

// The decoded forms of a bound. Each compares within its own type and turns into the
// JSON value Delta expects with present.
type (
	decimal struct {
		unscaled *big.Int
		scale    int32
	}
	date      int32 // days since 1970-01-01
	timestamp int64 // microseconds since the epoch, UTC
)

// bounds decodes the min and max of one column chunk's statistics. ok is false when the
// chunk has none, or for a type that Delta keeps no min/max for.
func bounds(col *parquet.Column, s format.Statistics) (min, max any, ok bool) {
	typ := col.Type()
	kind := typ.Kind()
	lo, hi := s.MinValue, s.MaxValue
	if lo == nil && hi == nil {
		// The deprecated fields hold signed-order bounds: right for numbers, wrong for
		// strings, so strings without the new fields get no bounds.
		if kind == parquet.ByteArray || kind == parquet.FixedLenByteArray {
			return nil, nil, false
		}
		lo, hi = s.Min, s.Max
	}
	if (lo == nil || hi == nil) && kind != parquet.ByteArray {
		return nil, nil, false
	}
	min, ok = decode(typ, lo)
	if !ok {
		return nil, nil, false
	}
	max, ok = decode(typ, hi)
	return min, max, ok
}

// decode turns one PLAIN-encoded statistics value of typ into its bound form.
func decode(typ parquet.Type, b []byte) (any, bool) {
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
			return date(v), true
		case *format.DecimalType:
			return decimal{big.NewInt(int64(v)), lt.Scale}, true
		case *format.IntType:
			if !lt.IsSigned {
				return int64(uint32(v)), true
			}
		case *format.TimeType:
			return nil, false
		}
		if converted == deprecated.Date {
			return date(v), true
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
			return decimal{big.NewInt(v), lt.Scale}, true
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
			return timestamp(v), true
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
			return decimal{twosComplement(b), lt.Scale}, true
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
		return timestamp(v * 1000), true
	case time.Microsecond:
		return timestamp(v), true
	case time.Nanosecond:
		// Truncate towards minus infinity, so a min stays a lower bound. A max is then
		// up to 999 ns low; Delta readers compare at microsecond precision.
		us := v / 1000
		if v%1000 < 0 {
			us--
		}
		return timestamp(us), true
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

// less orders two bounds of the same column.
func less(a, b any) bool {
	switch a := a.(type) {
	case int64:
		return a < b.(int64)
	case float64:
		return a < b.(float64)
	case string:
		return a < b.(string)
	case date:
		return a < b.(date)
	case timestamp:
		return a < b.(timestamp)
	case decimal:
		return a.unscaled.Cmp(b.(decimal).unscaled) < 0 // one column, one scale
	}
	return false
}

// present converts a bound to the JSON value of Delta statistics.
func present(v any) any {
	switch v := v.(type) {
	case date:
		return time.Unix(int64(v)*86400, 0).UTC().Format(time.DateOnly)
	case timestamp:
		return time.UnixMicro(int64(v)).UTC().Format("2006-01-02T15:04:05.000000Z07:00")
	case decimal:
		return json.Number(decimalString(v))
	}
	return v
}

// decimalString writes unscaled·10^-scale exactly, e.g. 12345, 2 -> "123.45".
func decimalString(d decimal) string {
	s := d.unscaled.String()
	if d.scale <= 0 {
		return s + strings.Repeat("0", int(-d.scale))
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	if len(s) <= int(d.scale) {
		s = strings.Repeat("0", int(d.scale)-len(s)+1) + s
	}
	s = s[:len(s)-int(d.scale)] + "." + s[len(s)-int(d.scale):]
	if neg {
		s = "-" + s
	}
	return s
}
