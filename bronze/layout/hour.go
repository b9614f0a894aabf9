package layout

import "time"

// Hour is an ingest hour: the UTC hour in which records were received.
type Hour time.Time

// HourOf truncates t to its UTC hour.
func HourOf(t time.Time) Hour { return Hour(t.UTC().Truncate(time.Hour)) }

// Time returns the start of the hour.
func (h Hour) Time() time.Time { return time.Time(h) }

// End returns the start of the next hour.
func (h Hour) End() time.Time { return time.Time(h).Add(time.Hour) }

// String formats the hour as 2006-01-02T15.
func (h Hour) String() string { return time.Time(h).Format("2006-01-02T15") }

// ParseHour parses 2006-01-02T15 (or an RFC 3339 time, truncated) as a UTC hour.
func ParseHour(s string) (Hour, error) {
	if t, err := time.ParseInLocation("2006-01-02T15", s, time.UTC); err == nil {
		return HourOf(t), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return Hour{}, err
	}
	return HourOf(t), nil
}

// MarshalText writes the hour as String does, so JSON summaries name it readably.
func (h Hour) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText reads what MarshalText writes (or anything ParseHour accepts).
func (h *Hour) UnmarshalText(b []byte) error {
	v, err := ParseHour(string(b))
	if err != nil {
		return err
	}
	*h = v
	return nil
}
