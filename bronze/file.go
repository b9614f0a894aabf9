package bronze

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path"

	"github.com/google/uuid"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"

	"github.com/lakectl/lakectl/bronze/layout"
)

// FileOptions bound the memory and shape of Bronze data files.
type FileOptions struct {
	// RowGroupBytes cuts a row group once this many uncompressed record bytes are
	// buffered. It bounds the memory of one open file. Default 8 MiB.
	RowGroupBytes int64
	// MaxRowsPerRowGroup bounds the rows of a row group whatever their size.
	// Default 131072 (DuckDB reads row groups of about that many rows best).
	MaxRowsPerRowGroup int64
	// SpoolDir is where files are encoded before they are uploaded. Default os.TempDir().
	SpoolDir string
}

func (o FileOptions) withDefaults() FileOptions {
	if o.RowGroupBytes <= 0 {
		o.RowGroupBytes = 8 << 20
	}
	if o.MaxRowsPerRowGroup <= 0 {
		o.MaxRowsPerRowGroup = 131072
	}
	if o.SpoolDir == "" {
		o.SpoolDir = os.TempDir()
	}
	return o
}

// batchRows is how many rows a file collects before handing them to the Parquet
// encoder in one call: enough to amortise the per-call cost, small enough to stay
// in cache.
const batchRows = 512

// zstdCodec is shared by every writer; it pools its encoders.
var zstdCodec = &zstd.Codec{Level: zstd.SpeedDefault}

// writerMaker makes a new Parquet writer for each data file rather than recycle one:
// parquet-go v0.32's Writer.Reset clears the column paths the writer shares with
// its footer, so every file a reused writer wrote had an empty path_in_schema in
// each column chunk. Page buffers, the costly part, are pooled by parquet-go.
type writerMaker struct {
	opts FileOptions
}

func (p *writerMaker) make(w io.Writer) *parquet.Writer {
	return parquet.NewWriter(w, rowSchema,
		parquet.Compression(zstdCodec),
		parquet.MaxRowsPerRowGroup(p.opts.MaxRowsPerRowGroup),
		parquet.CreatedBy("lakectl", "bronze", ""),
		parquet.PageBufferSize(1<<20),
	)
}

// dataFile is one Bronze data file being written: rows are batched, encoded into
// Parquet and spooled to a local temporary file until the flush uploads it.
type dataFile struct {
	Hour  layout.Hour
	Path  string // relative to the table root
	Stats fileStats

	spool   *os.File
	buf     *bufio.Writer
	out     countingWriter
	pw      *parquet.Writer
	batch   []parquet.Row // the values of each row, reused across batches
	rgBytes int64
	rgLimit int64 // cut a row group at this many buffered bytes
	Bytes   int64 // uncompressed record bytes appended
	Size    int64 // bytes of the finished Parquet file
	closed  bool
}

func newDataFile(writers *writerMaker, hour layout.Hour) (*dataFile, error) {
	spool, err := os.CreateTemp(writers.opts.SpoolDir, "lakectl-bronze-*.parquet")
	if err != nil {
		return nil, fmt.Errorf("create spool file: %w", err)
	}
	f := &dataFile{
		Hour:    hour,
		Path:    path.Join(layout.PartitionDir(hour), "part-"+uuid.NewString()+".zstd.parquet"),
		Stats:   newFileStats(),
		spool:   spool,
		batch:   make([]parquet.Row, 0, batchRows),
		rgLimit: writers.opts.RowGroupBytes,
	}
	f.buf = bufio.NewWriterSize(spool, 256<<10)
	f.out = countingWriter{w: f.buf}
	f.pw = writers.make(&f.out)
	return f, nil
}

// Rows is the number of rows appended.
func (f *dataFile) Rows() int64 { return f.Stats.Rows }

// Append adds one row with headers (r.Headers is ignored). The row's byte slices
// must stay unchanged until the next write of the batch (Append or Finish), so
// callers may pass slices they do not own for the duration of a poll.
func (f *dataFile) Append(r Row, headers []Header) error {
	r.Headers = headers
	n := len(f.batch)
	f.batch = f.batch[:n+1]
	row := appendRow(f.batch[n][:0], &r)
	f.batch[n] = row
	size := int64(len(r.Payload) + len(r.Key))
	for _, h := range headers {
		size += int64(len(h.Key) + len(h.Value))
	}
	f.Bytes += size
	f.rgBytes += size
	f.Stats.add(row)
	if len(f.batch) == cap(f.batch) {
		return f.writeBatch()
	}
	return nil
}

func (f *dataFile) writeBatch() error {
	if len(f.batch) == 0 {
		return nil
	}
	if _, err := f.pw.WriteRows(f.batch); err != nil {
		return fmt.Errorf("encode %s: %w", f.Path, err)
	}
	for i := range f.batch {
		clear(f.batch[i]) // drop the references to the callers' bytes
	}
	f.batch = f.batch[:0]
	if f.rgBytes >= f.rgLimit {
		f.rgBytes = 0
		if err := f.pw.Flush(); err != nil {
			return fmt.Errorf("cut row group of %s: %w", f.Path, err)
		}
	}
	return nil
}

// Finish writes the Parquet footer and syncs the spool file, which is then ready to
// upload with Open.
func (f *dataFile) Finish() error {
	if f.closed {
		return nil
	}
	if err := f.writeBatch(); err != nil {
		return err
	}
	if err := f.pw.Close(); err != nil {
		return fmt.Errorf("close parquet %s: %w", f.Path, err)
	}
	f.pw = nil
	if err := f.buf.Flush(); err != nil {
		return fmt.Errorf("write spool %s: %w", f.spool.Name(), err)
	}
	f.Size = f.out.n
	f.closed = true
	return nil
}

// Open returns a reader of the finished file from its start.
func (f *dataFile) Open() (io.Reader, error) {
	if _, err := f.spool.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("rewind spool %s: %w", f.spool.Name(), err)
	}
	return io.LimitReader(f.spool, f.Size), nil
}

// Discard removes the spool file. It is safe to call more than once.
func (f *dataFile) Discard() {
	if f.spool == nil {
		return
	}
	f.pw = nil
	f.spool.Close()
	os.Remove(f.spool.Name())
	f.spool = nil
	f.batch = nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
