package bronze

import (
	"testing"
	"time"
)

func TestNextSealPoint(t *testing.T) {
	graces := []time.Duration{5 * time.Minute, 30 * time.Minute} // two streams
	at := func(hms string) time.Time {
		tm, err := time.Parse("15:04:05", hms)
		if err != nil {
			t.Fatal(err)
		}
		return time.Date(2026, 11, 21, tm.Hour(), tm.Minute(), tm.Second(), 0, time.UTC)
	}
	tests := []struct{ now, want string }{
		{"08:00:00", "08:05:01"}, // the shorter grace after the boundary is still ahead
		{"08:05:00", "08:05:01"},
		{"08:05:01", "08:30:01"}, // then the longer one
		{"08:30:01", "09:00:00"}, // then the next boundary
		{"08:59:59", "09:00:00"},
	}
	for _, tc := range tests {
		if got := nextSealPoint(at(tc.now), graces...); !got.Equal(at(tc.want)) {
			t.Errorf("nextSealPoint(%s) = %s, want %s", tc.now, got.Format("15:04:05"), tc.want)
		}
	}
}
