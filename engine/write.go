package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/lakectl/lakectl/engine/sqlfrag"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/parquetstats"
)

// Limits of the files WriteFiles makes.
const (
	// RowGroupRows bounds a Parquet row group: one huge row group costs memory in the
	// writer and leaves DuckDB's readers a single unit of parallelism.
	RowGroupRows = 122_880
	// MaxFileBytes rolls an unpartitioned result over into several files (DuckDB cannot
	// combine a size bound with partitioning, so partitions get one file each).
	MaxFileBytes      = 512 << 20
	uploadConcurrency = 4
)

// WriteFiles runs query (with args bound to its $n parameters) and writes the result
// as zstd Parquet data files of table, partitioned by partitionCols: one directory per
// partition, named from the partition values by lake.PartitionDir
// (col=value/part-<uuid>.zstd.parquet), partition columns left out of the files as
// Delta expects. Every timestamp column is stored as INT64 TIMESTAMP(MICROS,
// UTC). It returns the Add actions, with partition values, size, modification time and
// statistics; nothing is visible in the table until the caller commits them. An empty
// result gives no files.
func (s *Session) WriteFiles(ctx context.Context, table *lake.Table, partitionCols []string, query string, args ...any) ([]lake.Add, error) {
	adds, err := s.writeFiles(ctx, table, partitionCols, query, args)
	if err != nil {
		return nil, fmt.Errorf("write files to %s: %w", table, err)
	}
	return adds, nil
}

func (s *Session) writeFiles(ctx context.Context, table *lake.Table, partitionCols []string, query string, args []any) ([]lake.Add, error) {
	cols, err := s.resultColumns(ctx, query, args)
	if err != nil {
		return nil, err
	}
	for _, p := range partitionCols {
		if !slices.ContainsFunc(cols, func(c resultColumn) bool { return c.name == p }) {
			return nil, fmt.Errorf("partition column %s is not in the query's result", p)
		}
	}
	tmp, err := os.MkdirTemp(s.tempDir, "write-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "out")

	written, err := s.copyTo(ctx, out, cols, partitionCols, query, args)
	if err != nil {
		return nil, err
	}
	adds := make([]lake.Add, len(written))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(uploadConcurrency)
	for i, w := range written {
		g.Go(func() error {
			a, err := upload(gctx, table, partitionCols, w)
			adds[i] = a
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	s.log.Debug("wrote files", "table", table.String(), "files", len(adds))
	return adds, nil
}

type resultColumn struct {
	name     string
	duckType string
}

// resultColumns returns the names and DuckDB types of the query's result, without
// running it to the end.
func (s *Session) resultColumns(ctx context.Context, query string, args []any) ([]resultColumn, error) {
	rows, err := s.conn.QueryContext(ctx, "SELECT * FROM ("+query+") AS q LIMIT 0", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	cols := make([]resultColumn, len(types))
	for i, t := range types {
		cols[i] = resultColumn{name: t.Name(), duckType: t.DatabaseTypeName()}
	}
	return cols, rows.Err()
}

// QuerySchema returns the Delta schema of the query's result: the schema a table
// written with WriteFiles from it has, e.g. for the metadata of a new table.
func (s *Session) QuerySchema(ctx context.Context, query string, args ...any) (*lake.Schema, error) {
	cols, err := s.resultColumns(ctx, query, args)
	if err != nil {
		return nil, fmt.Errorf("query schema: %w", err)
	}
	fields := make([]lake.Field, len(cols))
	for i, c := range cols {
		t, err := DeltaType(c.duckType)
		if err != nil {
			return nil, fmt.Errorf("query schema: column %s: %w", c.name, err)
		}
		fields[i] = lake.NewField(c.name, t, true)
	}
	return lake.NewSchema(fields...), nil
}

// writtenFile is one file that COPY wrote.
type writtenFile struct {
	path       string
	rows       int64
	partitions map[string]*string
}

// copyTo writes the result under dir with DuckDB's COPY and lists the files it wrote.
func (s *Session) copyTo(ctx context.Context, dir string, cols []resultColumn, partitionCols []string, query string, args []any) ([]writtenFile, error) {
	opts := []sqlfrag.SQL{
		sqlfrag.Const("FORMAT parquet"),
		sqlfrag.Const("COMPRESSION zstd"),
		sqlfrag.Fmt("ROW_GROUP_SIZE %s", sqlfrag.Int(RowGroupRows)),
		sqlfrag.Const("FILENAME_PATTERN 'part-{uuid}'"),
		sqlfrag.Const("RETURN_STATS true"),
	}
	if len(partitionCols) > 0 {
		quoted := make([]sqlfrag.SQL, len(partitionCols))
		for i, p := range partitionCols {
			quoted[i] = sqlfrag.Ident(p)
		}
		opts = append(opts, sqlfrag.Fmt("PARTITION_BY (%s)", sqlfrag.List(quoted...)))
	} else {
		opts = append(opts, sqlfrag.Fmt("FILE_SIZE_BYTES %s", sqlfrag.Int(MaxFileBytes)))
	}
	stmt := sqlfrag.Fmt("COPY (%s) TO %s (%s)", utcSelect(cols, query), sqlfrag.Str(dir), sqlfrag.List(opts...))
	rows, err := s.conn.QueryContext(ctx, stmt.String(), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []writtenFile
	for rows.Next() {
		var (
			w                     writtenFile
			count, size, footSize uint64
			colStats              any
			keys                  any // OrderedMap, or nil when not partitioned
		)
		if err := rows.Scan(&w.path, &count, &size, &footSize, &colStats, &keys); err != nil {
			return nil, fmt.Errorf("read COPY result: %w", err)
		}
		if count == 0 {
			continue // an empty result still makes one empty file; the table needs none
		}
		w.rows = int64(count)
		w.partitions = map[string]*string{}
		km, _ := keys.(duckdb.OrderedMap)
		for _, p := range partitionCols {
			v, ok := km.Get(p)
			if !ok {
				return nil, fmt.Errorf("COPY result for %s has no value of partition column %s", w.path, p)
			}
			if v == nil {
				w.partitions[p] = nil
				continue
			}
			str := partitionString(fmt.Sprint(v), cols, p)
			w.partitions[p] = &str
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// utcSelect wraps the query so that every timestamp, also inside structs, lists and
// maps, becomes TIMESTAMPTZ, which DuckDB writes as INT64 TIMESTAMP(MICROS,
// isAdjustedToUTC): Delta's timestamp. A naive TIMESTAMP is read as UTC (the session's
// zone).
func utcSelect(cols []resultColumn, query string) sqlfrag.SQL {
	var replace []sqlfrag.SQL
	for _, c := range cols {
		if !hasNaiveTimestamp(c.duckType) {
			continue
		}
		target := sqlfrag.Const("TIMESTAMPTZ")
		if dt, err := DeltaType(c.duckType); err == nil {
			if t, err := DuckType(dt); err == nil {
				target = t // the same shape, every timestamp in it TIMESTAMPTZ
			}
		}
		replace = append(replace, sqlfrag.Fmt("CAST(q.%[1]s AS %[2]s) AS %[1]s", sqlfrag.Ident(c.name), target))
	}
	if len(replace) == 0 {
		return sqlfrag.Fmt("SELECT * FROM %s AS q", sqlfrag.Query(query))
	}
	return sqlfrag.Fmt("SELECT * REPLACE (%s) FROM %s AS q", sqlfrag.List(replace...), sqlfrag.Query(query))
}

// hasNaiveTimestamp reports whether a DuckDB type is or holds a timestamp without time
// zone (TIMESTAMP, TIMESTAMP_S, _MS, _NS).
func hasNaiveTimestamp(duckType string) bool {
	aware := strings.NewReplacer("TIMESTAMP WITH TIME ZONE", "", "TIMESTAMPTZ", "")
	return strings.Contains(aware.Replace(duckType), "TIMESTAMP")
}

// partitionString turns DuckDB's text of a partition value into Delta's: timestamps
// as "2006-01-02 15:04:05.999999" in UTC, everything else as DuckDB prints it.
func partitionString(v string, cols []resultColumn, col string) string {
	for _, c := range cols {
		if c.name != col || !strings.HasPrefix(c.duckType, "TIMESTAMP") {
			continue
		}
		for _, layout := range []string{"2006-01-02 15:04:05.999999-07", "2006-01-02 15:04:05.999999-07:00", "2006-01-02 15:04:05.999999"} {
			if t, err := time.Parse(layout, v); err == nil {
				return t.UTC().Format("2006-01-02 15:04:05.999999")
			}
		}
	}
	return v
}

// upload puts one written file into the table under the directory lake.PartitionDir
// makes of its partition values (not the one COPY chose) and describes it as an Add.
func upload(ctx context.Context, table *lake.Table, partitionCols []string, w writtenFile) (lake.Add, error) {
	st, err := parquetstats.ReadFile(w.path)
	if err != nil {
		return lake.Add{}, err
	}
	if st.NumRecords != w.rows {
		return lake.Add{}, fmt.Errorf("%s: footer says %d rows, COPY wrote %d", w.path, st.NumRecords, w.rows)
	}
	stats, err := parquetstats.JSON(st)
	if err != nil {
		return lake.Add{}, err
	}
	rel := lake.DataFilePath(partitionCols, w.partitions, "part-"+uuid.NewString()+".zstd.parquet")
	f, err := os.Open(w.path)
	if err != nil {
		return lake.Add{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return lake.Add{}, err
	}
	if err := table.Store().Put(ctx, table.Key(rel), f, fi.Size()); err != nil {
		return lake.Add{}, fmt.Errorf("upload %s: %w", rel, err)
	}
	return lake.Add{
		Path:             lake.EncodePath(rel),
		PartitionValues:  w.partitions,
		Size:             fi.Size(),
		ModificationTime: time.Now().UnixMilli(),
		DataChange:       true,
		Stats:            stats,
	}, nil
}
