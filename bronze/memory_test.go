package bronze

import (
	"testing"

	"github.com/lakectl/lakectl/lake/mem"
)

// TestMemoryLimitSizesBuffers: a memory limit shrinks the fetch and row-group
// buffers to shares of it, never grows them past the fixed defaults, and leaves
// sizes that were set explicitly alone.
func TestMemoryLimitSizesBuffers(t *testing.T) {
	base := Config{Store: mem.New(), HTTPAddr: "127.0.0.1:0"}
	for _, tc := range []struct {
		name          string
		limit         int64
		fetch, buffer int64
	}{
		{"none", 0, 8 << 20, 64 << 20},
		{"64MiB", 64 << 20, 2 << 20, 8 << 20},
		{"8MiB", 8 << 20, 1 << 20, 4 << 20},
		{"4GiB", 4 << 30, 8 << 20, 64 << 20},
	} {
		c := base
		c.MemoryLimit = tc.limit
		got, err := c.withDefaults()
		if err != nil {
			t.Fatal(err)
		}
		if int64(got.FetchMaxBytes) != tc.fetch || got.BufferBytes != tc.buffer {
			t.Errorf("%s: fetch %d, buffer %d; want %d, %d", tc.name, got.FetchMaxBytes, got.BufferBytes, tc.fetch, tc.buffer)
		}
	}
	c := base
	c.MemoryLimit, c.FetchMaxBytes, c.BufferBytes = 64<<20, 16<<20, 128<<20
	got, _ := c.withDefaults()
	if got.FetchMaxBytes != 16<<20 || got.BufferBytes != 128<<20 {
		t.Errorf("explicit sizes changed: fetch %d, buffer %d", got.FetchMaxBytes, got.BufferBytes)
	}
}
