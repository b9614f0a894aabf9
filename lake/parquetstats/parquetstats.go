// Package parquetstats computes the Delta statistics of a data file (numRecords and the
// per-column minValues, maxValues and nullCount of lake.Stats) from its Parquet footer,
// without reading any page.
//
//	st, err := parquetstats.ReadFile("part-0.zstd.parquet")
//	add.Stats, err = parquetstats.JSON(st)
//
// Values follow what Delta readers expect: integers and floats as JSON numbers, decimals
// as exact decimal numbers, dates as "2006-01-02", timestamps as RFC 3339 UTC strings with
// microseconds, strings as they are. Nested struct fields nest in the maps as they do in
// the schema; fields inside arrays and maps, binary and boolean columns get a nullCount
// only, because min/max of those skip nothing. A bound that the footer cannot prove (a
// row group without statistics, a NaN) is left out rather than guessed: a missing bound
// makes a reader scan the file, a wrong one makes it skip rows it needs.
package parquetstats

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/internal/bound"
)

// MaxStringPrefix is how many characters of a string min/max are kept. A longer minimum
// is cut to this prefix (still a lower bound); a longer maximum is left out, since a cut
// one would not be an upper bound. Delta implementations use 32 too.
const MaxStringPrefix = 32

// ReadFile returns the statistics of the Parquet file at path.
func ReadFile(path string) (lake.Stats, error) {
	f, err := os.Open(path)
	if err != nil {
		return lake.Stats{}, fmt.Errorf("parquet stats %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return lake.Stats{}, fmt.Errorf("parquet stats %s: %w", path, err)
	}
	st, err := Read(f, fi.Size())
	if err != nil {
		return lake.Stats{}, fmt.Errorf("parquet stats %s: %w", path, err)
	}
	return st, nil
}

// Read returns the statistics of the Parquet file of size bytes that r reads. It reads
// the footer only.
func Read(r io.ReaderAt, size int64) (lake.Stats, error) {
	f, err := parquet.OpenFile(r, size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return lake.Stats{}, fmt.Errorf("open footer: %w", err)
	}
	md := f.Metadata()
	st := lake.Stats{
		NumRecords: md.NumRows,
		MinValues:  map[string]any{},
		MaxValues:  map[string]any{},
		NullCount:  map[string]any{},
	}
	for _, col := range f.Root().Columns() {
		addColumn(&st, md, col, nil, false)
	}
	return st, nil
}

// JSON encodes stats as Add.Stats.
func JSON(st lake.Stats) (string, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return "", fmt.Errorf("encode stats: %w", err)
	}
	return string(b), nil
}

// addColumn records col (at path below the root) and its children. Under a repeated
// node only null counts would make sense per row, and Delta keeps none there.
func addColumn(st *lake.Stats, md *format.FileMetaData, col *parquet.Column, path []string, inRepeated bool) {
	path = append(path[:len(path):len(path)], col.Name())
	inRepeated = inRepeated || col.Repeated()
	if !col.Leaf() {
		if isListOrMap(col) {
			inRepeated = true
		}
		for _, c := range col.Columns() {
			addColumn(st, md, c, path, inRepeated)
		}
		return
	}
	if inRepeated {
		return
	}
	var nulls int64
	var lo, hi any
	okBounds := true
	for _, rg := range md.RowGroups {
		cc := rg.Columns[col.Index()].MetaData
		s := cc.Statistics
		nulls += s.NullCount
		if s.NullCount >= cc.NumValues {
			continue // all null: no bound to contribute
		}
		min, max, ok := bounds(col, s)
		if !ok {
			okBounds = false
			continue
		}
		if lo == nil || bound.Less(min, lo) {
			lo = min
		}
		if hi == nil || bound.Less(hi, max) {
			hi = max
		}
	}
	setPath(st.NullCount, path, nulls)
	if !okBounds || lo == nil {
		return
	}
	if s, ok := lo.(string); ok {
		lo = StringMin(s)
	}
	setPath(st.MinValues, path, bound.JSON(lo))
	if s, ok := hi.(string); ok {
		if hi, ok = StringMax(s); !ok {
			return
		}
	}
	setPath(st.MaxValues, path, bound.JSON(hi))
}

// StringMin returns the minimum to record of a string column whose least value is s:
// s cut to MaxStringPrefix characters, still a lower bound.
func StringMin(s string) string {
	if utf8.RuneCountInString(s) <= MaxStringPrefix {
		return s
	}
	return string([]rune(s)[:MaxStringPrefix])
}

// StringMax returns the maximum to record of a string column whose greatest value is
// s; ok is false when s is longer than MaxStringPrefix, as a cut one would not be an
// upper bound.
func StringMax(s string) (max string, ok bool) {
	return s, utf8.RuneCountInString(s) <= MaxStringPrefix
}

// isListOrMap reports whether a group is a LIST or MAP: its leaves repeat per row.
func isListOrMap(col *parquet.Column) bool {
	lt := col.Type().LogicalType()
	if lt != nil {
		switch lt.Value.(type) {
		case *format.ListType, *format.MapType:
			return true
		}
	}
	return false
}

// setPath stores v at the nested path of m, creating the struct maps on the way.
func setPath(m map[string]any, path []string, v any) {
	for _, p := range path[:len(path)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[path[len(path)-1]] = v
}
