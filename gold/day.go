package gold

import (
	"fmt"
	"time"
)

// Day is a UTC calendar day, the unit a model is built and replaced in.
type Day struct{ t time.Time }

// DayOf is the UTC day of t.
func DayOf(t time.Time) Day {
	u := t.UTC()
	return Day{time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)}
}

// ParseDay reads 2006-01-02.
func ParseDay(s string) (Day, error) {
	t, err := time.ParseInLocation(time.DateOnly, s, time.UTC)
	if err != nil {
		return Day{}, fmt.Errorf("bad day %q: write it 2026-11-21", s)
	}
	return Day{t}, nil
}

func (d Day) String() string { return d.t.Format(time.DateOnly) }

// Start is the day's first instant.
func (d Day) Start() time.Time { return d.t }

// End is the next day's first instant.
func (d Day) End() time.Time { return d.t.AddDate(0, 0, 1) }

// Add is the day n days later (earlier for n < 0).
func (d Day) Add(n int) Day { return Day{d.t.AddDate(0, 0, n)} }

// Before reports whether d comes before e.
func (d Day) Before(e Day) bool { return d.t.Before(e.t) }

// IsZero reports whether d is the zero Day.
func (d Day) IsZero() bool { return d.t.IsZero() }

// MarshalText writes 2006-01-02.
func (d Day) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads 2006-01-02.
func (d *Day) UnmarshalText(b []byte) error {
	v, err := ParseDay(string(b))
	*d = v
	return err
}

// window is the days that day reads of an input with a window of n days: n days
// ending with day, oldest first.
func window(day Day, n int) []Day {
	out := make([]Day, 0, n)
	for i := n - 1; i >= 0; i-- {
		out = append(out, day.Add(-i))
	}
	return out
}
