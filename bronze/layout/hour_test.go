package layout

import (
	"slices"
	"testing"
	"time"
)

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

func TestGraces(t *testing.T) {
	g := Graces{Streams: map[string]time.Duration{"fast": time.Minute, "slow": time.Hour}}
	for stream, want := range map[string]time.Duration{"fast": time.Minute, "slow": time.Hour, "other": DefaultGrace} {
		if got := g.Of(stream); got != want {
			t.Errorf("Of(%q) = %v, want %v", stream, got, want)
		}
	}
	if got, want := g.All(), []time.Duration{time.Minute, DefaultGrace, time.Hour}; !slices.Equal(got, want) {
		t.Errorf("All() = %v, want %v", got, want)
	}
	if got := (Graces{Default: 2 * time.Minute}).Of("any"); got != 2*time.Minute {
		t.Errorf("Of with a default = %v, want 2m", got)
	}
}
