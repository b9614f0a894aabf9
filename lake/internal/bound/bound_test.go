package bound

import (
	"math/big"
	"testing"
	"time"
)

func TestDecimalString(t *testing.T) {
	for _, tc := range []struct {
		unscaled int64
		scale    int32
		want     string
	}{
		{12345, 2, "123.45"}, {-5, 2, "-0.05"}, {7, 0, "7"}, {5, 3, "0.005"}, {12, -2, "1200"},
	} {
		if got := (Decimal{big.NewInt(tc.unscaled), tc.scale}).String(); got != tc.want {
			t.Errorf("Decimal{%d, %d}.String() = %q, want %q", tc.unscaled, tc.scale, got, tc.want)
		}
	}
}

func TestPartitionString(t *testing.T) {
	at := time.Date(2026, 11, 20, 8, 0, 0, 123000, time.UTC)
	for _, tc := range []struct {
		v    any
		want string
	}{
		{int64(9), "9"}, {Date(20412), "2025-11-20"}, {Timestamp(at.UnixMicro()), "2026-11-20 08:00:00.000123"},
		{Timestamp(at.Truncate(time.Second).UnixMicro()), "2026-11-20 08:00:00"},
		{Decimal{big.NewInt(150), 2}, "1.50"}, {"eu", "eu"}, {1.5, "1.5"},
	} {
		if got := PartitionString(tc.v); got != tc.want {
			t.Errorf("PartitionString(%#v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

func TestTimestampStringIsExact(t *testing.T) {
	if got := TimestampString(time.Date(2026, 11, 20, 8, 0, 0, 999_999_000, time.UTC).UnixMicro()); got != "2026-11-20T08:00:00.999999Z" {
		t.Errorf("TimestampString = %q, want every microsecond", got)
	}
}
