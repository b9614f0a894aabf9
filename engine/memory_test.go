package engine

import (
	"runtime"
	"strconv"
	"strings"
	"testing"
)

func TestOpenDefaultsMemoryLimitToHalfTheMemory(t *testing.T) {
	want := DefaultMemoryLimit()
	if runtime.GOOS == "linux" {
		mib, err := strconv.ParseInt(strings.TrimSuffix(want, "MiB"), 10, 64)
		if err != nil {
			t.Fatalf("DefaultMemoryLimit() = %q, want a MiB count", want)
		}
		avail := memTotal()
		if c := cgroupLimit(); c > 0 && c < avail {
			avail = c
		}
		if half := avail >> 21; mib < half-1 || mib > half {
			t.Fatalf("DefaultMemoryLimit() = %dMiB, want half of %d MiB", mib, avail>>20)
		}
	}
	setting := func(cfg Config) string {
		s, err := Open(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var v string
		if err := s.QueryRowContext(t.Context(), "SELECT current_setting('memory_limit')").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	got := setting(Config{Threads: 1})
	if want != "" {
		if explicit := setting(Config{Threads: 1, MemoryLimit: want}); got != explicit {
			t.Errorf("memory_limit without a configured limit = %s, want %s (%s)", got, explicit, want)
		}
	}
	if other := setting(Config{Threads: 1, MemoryLimit: "1GiB"}); other == got {
		t.Errorf("a configured 1GiB limit reads %s, the same as the default", other)
	}
}
