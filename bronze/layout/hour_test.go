package layout

import "testing"

func TestParseHour(t *testing.T) {
	for _, s := range []string{"2026-11-21T08", "2026-11-21T08:42:00Z", "2026-11-21T09:42:00+01:00"} {
		h, err := ParseHour(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := h.String(); got != "2026-11-21T08" {
			t.Errorf("ParseHour(%q) = %s, want 2026-11-21T08", s, got)
		}
	}
}
