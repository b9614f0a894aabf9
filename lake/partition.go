package lake

import (
	"fmt"
	"path"
	"strings"
)

// Partition paths. Every lakectl writer (Bronze, compaction, Silver, quarantine,
// reference tables) names a data file's directory with PartitionDir from the
// partition values it commits, so the path says exactly what the log says: a reader
// that infers Hive partitions from paths (DuckDB's hive_partitioning, polars, Spark's
// discovery) finds the log's values, typed the same in every table. The values are
// Delta's partition value serialization (an integer "9", a date "2026-11-20", a
// timestamp "2026-11-20 08:00:00", a boolean "true"); a null is Hive's
// __HIVE_DEFAULT_PARTITION__. Readers still take the values from the log, which the
// protocol makes authoritative, so tables written with other paths (Bronze wrote
// ingest_hour=09 before) read as before.

// NullPartitionValue is the directory name of a null partition value, as Hive, Spark
// and DuckDB spell it.
const NullPartitionValue = "__HIVE_DEFAULT_PARTITION__"

// PartitionDir returns the directory below the table root of a file with these
// partition values: col=value/... in the order of cols, each name and value
// Hive-escaped (HiveEscape), without a trailing slash; "" for an unpartitioned table.
func PartitionDir(cols []string, values map[string]*string) string {
	segs := make([]string, len(cols))
	for i, c := range cols {
		v := NullPartitionValue
		if p := values[c]; p != nil {
			v = HiveEscape(*p)
		}
		segs[i] = HiveEscape(c) + "=" + v
	}
	return strings.Join(segs, "/")
}

// DataFilePath returns the path below the table root of a new data file called name
// with these partition values: PartitionDir, then name.
func DataFilePath(cols []string, values map[string]*string, name string) string {
	return path.Join(PartitionDir(cols, values), name)
}

// PartitionPathAgrees reports whether the add's path is a file directly below the
// directory PartitionDir makes of its partition values, so that the values a reader
// infers from the path are the log's. Files other writers made may be anywhere (the
// protocol does not tie paths to values), and so may files lakectl wrote before it
// named directories this way.
func (a Add) PartitionPathAgrees(cols []string) bool {
	if a.IsAbsolute() {
		return false
	}
	dir := path.Dir(a.DecodedPath())
	want := PartitionDir(cols, a.PartitionValues)
	if want == "" {
		return dir == "."
	}
	return dir == want
}

// HiveEscape percent-encodes the characters that Hive (and Spark, for Delta) escape in
// partition directory names, so any value makes one path segment.
func HiveEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f || strings.IndexByte("\"#%'*/:=?\\{[]^", c) >= 0 {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
