package lake

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go"

	"github.com/lakectl/lakectl/lake/internal/bound"
)

// A checkpoint may carry an add's statistics and partition values typed, as the
// structs add.stats_parsed and add.partitionValues_parsed, whose fields follow the
// table's schema (PROTOCOL.md, "Checkpoint Schema"). Writers that honour
// delta.checkpoint.writeStatsAsJson=false (Spark, delta-rs) leave add.stats null and
// keep the statistics only there. A checkpoint's schema varies with the table's, so
// these columns are read by path, leaf by leaf, beside the fixed columns of cpRow.

// parsedLeaf is one primitive column below stats_parsed or partitionValues_parsed,
// with its value in every row of the checkpoint.
type parsedLeaf struct {
	section string   // numRecords, minValues, maxValues, nullCount, or partition
	path    []string // the column's path below its section (partition: the column name)
	col     *parquet.Column
	values  []parquet.Value
}

// parsedColumns are the typed statistics and partition values of a checkpoint.
type parsedColumns struct {
	leaves []parsedLeaf
}

// readParsed reads add.stats_parsed and add.partitionValues_parsed; nil when the
// checkpoint has neither.
func readParsed(f *parquet.File) (*parsedColumns, error) {
	add := f.Root().Column("add")
	if add == nil {
		return nil, nil
	}
	p := &parsedColumns{}
	if sp := add.Column("stats_parsed"); sp != nil {
		for _, c := range sp.Columns() {
			switch c.Name() {
			case "numRecords", "minValues", "maxValues", "nullCount":
				p.collect(c.Name(), c, nil)
			}
		}
	}
	if pv := add.Column("partitionValues_parsed"); pv != nil {
		for _, c := range pv.Columns() {
			if c.Leaf() {
				p.collect("partition", c, []string{c.Name()})
			}
		}
	}
	if len(p.leaves) == 0 {
		return nil, nil
	}
	for i := range p.leaves {
		vals, err := columnValues(p.leaves[i].col)
		if err != nil {
			return nil, fmt.Errorf("read add.%s: %w", p.leaves[i].col.Path()[1], err)
		}
		if len(vals) != int(f.NumRows()) {
			return nil, fmt.Errorf("add.%s has %d values for %d rows", p.leaves[i].col.Path()[1], len(vals), f.NumRows())
		}
		p.leaves[i].values = vals
	}
	return p, nil
}

// collect adds the leaves at and below c. Leaves under a repeated node have no single
// value per row (statistics are never kept there) and are skipped.
func (p *parsedColumns) collect(section string, c *parquet.Column, path []string) {
	if c.MaxRepetitionLevel() > 0 {
		return
	}
	if c.Leaf() {
		p.leaves = append(p.leaves, parsedLeaf{section: section, path: path, col: c})
		return
	}
	for _, child := range c.Columns() {
		p.collect(section, child, append(path[:len(path):len(path)], child.Name()))
	}
}

// columnValues reads every value of a leaf column, over all row groups.
func columnValues(c *parquet.Column) ([]parquet.Value, error) {
	pages := c.Pages()
	defer pages.Close()
	var out []parquet.Value
	for {
		page, err := pages.ReadPage()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		vals := make([]parquet.Value, page.NumValues())
		n, err := page.Values().ReadValues(vals)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		for _, v := range vals[:n] {
			out = append(out, v.Clone()) // the page's buffers are reused
		}
		parquet.Release(page)
	}
}

// fill gives the add of row what its fixed columns lack: the statistics as JSON from
// stats_parsed when add.stats is null, and the partition values from
// partitionValues_parsed when add.partitionValues is empty.
func (p *parsedColumns) fill(row int, a *cpAdd) {
	if a.Stats == nil {
		if s, ok := p.stats(row); ok {
			a.Stats = &s
		}
	}
	if len(a.PartitionValues) == 0 {
		for _, l := range p.leaves {
			if l.section != "partition" {
				continue
			}
			if a.PartitionValues == nil {
				a.PartitionValues = map[string]*string{}
			}
			v := l.values[row]
			if v.IsNull() {
				a.PartitionValues[l.path[0]] = nil
				continue
			}
			s, ok := partitionString(l.col, v)
			if !ok {
				continue // a type lakectl cannot render: readers get no value rather than a wrong one
			}
			a.PartitionValues[l.path[0]] = &s
		}
	}
}

// stats renders the row's stats_parsed as the JSON of Stats; false when it has no
// numRecords.
func (p *parsedColumns) stats(row int) (string, bool) {
	st := Stats{MinValues: map[string]any{}, MaxValues: map[string]any{}, NullCount: map[string]any{}}
	found := false
	for _, l := range p.leaves {
		v := l.values[row]
		if v.IsNull() {
			continue
		}
		switch l.section {
		case "numRecords":
			st.NumRecords, found = v.Int64(), true
		case "nullCount":
			setStatsPath(st.NullCount, l.path, v.Int64())
		case "minValues", "maxValues":
			b, ok := bound.Decode(l.col.Type(), v.Bytes())
			if !ok {
				continue // a bound lakectl cannot decode is left out, as a missing one is safe
			}
			m := st.MinValues
			if l.section == "maxValues" {
				m = st.MaxValues
			}
			setStatsPath(m, l.path, bound.JSON(b))
		}
	}
	if !found {
		return "", false
	}
	out, err := json.Marshal(st)
	return string(out), err == nil
}

// setStatsPath stores v at the nested path of m, creating the struct maps on the way.
func setStatsPath(m map[string]any, path []string, v any) {
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

// partitionString renders a typed partition value in Delta's partition value
// serialization.
func partitionString(c *parquet.Column, v parquet.Value) (string, bool) {
	if c.Type().Kind() == parquet.Boolean {
		if v.Boolean() {
			return "true", true
		}
		return "false", true
	}
	b, ok := bound.Decode(c.Type(), v.Bytes())
	if !ok {
		return "", false
	}
	return bound.PartitionString(b), true
}
