package parquetstats

import (
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/lakectl/lakectl/lake/internal/bound"
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
	min, ok = bound.Decode(typ, lo)
	if !ok {
		return nil, nil, false
	}
	max, ok = bound.Decode(typ, hi)
	return min, max, ok
}
