package bronze

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/lake"
	"github.com/parquet-go/parquet-go"
)

// merge writes the rows of files, in order, into one new data file of hour h, and
// returns it with the offset ranges it holds. Each input is spooled to local disk
// and decoded a batch at a time, so memory stays at a row group or two whatever
// the files' sizes.
func (c *Compactor) merge(ctx context.Context, t *lake.Table, h layout.Hour, files []lake.Add, index map[string][]int64) (*dataFile, []Span, error) {
	out, err := newDataFile(&c.pool, h)
	if err != nil {
		return nil, nil, err
	}
	var spans []Span
	for i := range files {
		if err := ctx.Err(); err != nil {
			return out, nil, err
		}
		s, _ := FileSpans(&files[i]) // planHour kept only files with spans
		spans = append(spans, s...)
		if err := c.copyRows(ctx, t, files[i], out); err != nil {
			return out, nil, err
		}
	}
	if err := out.Finish(); err != nil {
		return out, nil, err
	}
	return out, mergeSpans(spans, index), nil
}

// copyRows appends every row of one file to out and checks that the file held
// the rows its stats count.
func (c *Compactor) copyRows(ctx context.Context, t *lake.Table, a lake.Add, out *dataFile) error {
	key := path.Join(t.Root(), a.DecodedPath())
	local, err := c.download(ctx, t.Store(), key)
	if err != nil {
		return err
	}
	defer func() { local.Close(); os.Remove(local.Name()) }()
	r := parquet.NewGenericReader[Row](local)
	defer r.Close()
	buf := make([]Row, batchRows)
	var n int64
	for {
		k, rerr := r.Read(buf)
		for i := range buf[:k] {
			if err := out.Append(buf[i], buf[i].Headers); err != nil {
				return err
			}
		}
		// The batch points into buf, which the next Read overwrites.
		if err := out.writeBatch(); err != nil {
			return err
		}
		n += int64(k)
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			return fmt.Errorf("decode %s: %w", key, rerr)
		}
	}
	if st, ok, _ := a.ParseStats(); ok && st.NumRecords != n {
		return fmt.Errorf("%s: read %d rows, its stats say %d", key, n, st.NumRecords)
	}
	return nil
}

// download copies an object into a temporary file of the spool directory.
func (c *Compactor) download(ctx context.Context, store lake.Store, key string) (*os.File, error) {
	f, err := os.CreateTemp(c.opts.Files.SpoolDir, "lakectl-compact-*.parquet")
	if err != nil {
		return nil, fmt.Errorf("create spool file: %w", err)
	}
	fail := func(err error) (*os.File, error) {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	rc, err := store.Get(ctx, key)
	if err != nil {
		return fail(fmt.Errorf("read %s: %w", key, err))
	}
	defer rc.Close()
	if _, err := io.Copy(f, rc); err != nil {
		return fail(fmt.Errorf("read %s: %w", key, err))
	}
	return f, nil
}

// spanIndex lists, per source, the first offsets of every range any file of snap
// holds, sorted: two ranges are neighbours when no other file's range lies
// between them.
func spanIndex(snap *lake.Snapshot) map[string][]int64 {
	idx := map[string][]int64{}
	for _, a := range snap.Files() {
		spans, _ := FileSpans(&a)
		for _, s := range spans {
			idx[s.key()] = append(idx[s.key()], s.First)
		}
	}
	for _, firsts := range idx {
		sort.Slice(firsts, func(i, j int) bool { return firsts[i] < firsts[j] })
	}
	return idx
}

// mergeSpans sorts spans and joins the ranges of one source that are neighbours in
// the table (see spanIndex): the merged range then holds no offset of any other
// file, so the tag stays exact while it shrinks from one range per small file to
// about one per source.
func mergeSpans(spans []Span, index map[string][]int64) []Span {
	sortSpans(spans)
	var out []Span
	lastFirst := int64(0) // First of the last range folded into out's last span
	for _, s := range spans {
		if n := len(out); n > 0 && out[n-1].key() == s.key() && neighbours(index[s.key()], lastFirst, s.First) {
			out[n-1].Last = max(out[n-1].Last, s.Last)
		} else {
			out = append(out, s)
		}
		lastFirst = s.First
	}
	return out
}

func neighbours(firsts []int64, a, b int64) bool {
	i := sort.Search(len(firsts), func(i int) bool { return firsts[i] >= a })
	return i+1 < len(firsts) && firsts[i] == a && firsts[i+1] == b
}
