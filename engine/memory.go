package engine

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// DefaultMemoryFraction is the share of the machine's memory (or of the process's
// cgroup limit, when that is lower) that a session without a configured MemoryLimit
// lets DuckDB use. DuckDB's own default, 80% of physical memory, leaves too little for
// the Go side, a second session in the same process (`lakectl serve` runs Silver,
// Gold and views side by side) and the page cache that reads the data files; past
// the limit DuckDB spills to TempDir instead of failing or being killed.
const DefaultMemoryFraction = 0.5

// DefaultMemoryLimit returns the memory_limit a session gets when Config.MemoryLimit is
// empty: DefaultMemoryFraction of the memory available, in MiB ("12052MiB"), or ""
// (DuckDB's own default) where the available memory cannot be read (not Linux).
func DefaultMemoryLimit() string {
	total := memTotal()
	if limit := cgroupLimit(); limit > 0 && (total == 0 || limit < total) {
		total = limit
	}
	if total <= 0 {
		return ""
	}
	return fmt.Sprintf("%dMiB", int64(float64(total)*DefaultMemoryFraction)>>20)
}

// memTotal reads MemTotal from /proc/meminfo, in bytes; 0 if unknown.
func memTotal() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
		if err != nil {
			return 0
		}
		return kb << 10
	}
	return 0
}

// cgroupLimit reads the memory limit of the process's cgroup (v2, then v1), in bytes;
// 0 when there is none. A container's limit is what the kernel enforces, whatever
// the machine has.
func cgroupLimit() int64 {
	for _, f := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil || n <= 0 || n >= 1<<60 { // "max", or v1's "no limit" (near 2^63)
			continue
		}
		return n
	}
	return 0
}
