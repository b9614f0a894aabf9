package pipeline

import "testing"

func TestParseBytes(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"", 0, true},
		{"134217728", 134217728, true},
		{"128MiB", 128 << 20, true},
		{"64MB", 64e6, true},
		{"512KiB", 512 << 10, true},
		{"50GiB", 50 << 30, true},
		{"1.5GiB", 3 << 29, true},
		{"2TiB", 2 << 40, true},
		{"10 GB", 10e9, true},
		{"lots", 0, false},
		{"-1GiB", 0, false},
		{"-5", 0, false},
		{"GiB", 0, false},
	} {
		got, err := ParseBytes(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
