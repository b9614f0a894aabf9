package bronze

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"

	"github.com/lakectl/lakectl/lake"
	"github.com/parquet-go/parquet-go"
)

// ReadRows reads every row of one Bronze data file. It loads the whole file, which
// Bronze files' bounded size allows; tools and tests use it, the hot path never does.
func ReadRows(ctx context.Context, t *lake.Table, a lake.Add) ([]Row, error) {
	return readFile[Row](ctx, t, a)
}

// ledgerRow is the projection verify reads: the columns that place a row in the
// ledger, and the payload, key and headers it compares with the broker's record.
type ledgerRow struct {
	Payload   []byte   `parquet:"payload"`
	Key       []byte   `parquet:"key,optional"`
	Headers   []Header `parquet:"headers,list"`
	Source    string   `parquet:"source"`
	Topic     string   `parquet:"topic,optional"`
	Partition int32    `parquet:"partition"`
	Offset    int64    `parquet:"offset"`
}

func readFile[T any](ctx context.Context, t *lake.Table, a lake.Add) ([]T, error) {
	key := path.Join(t.Root(), a.DecodedPath())
	data, err := lake.ReadAll(ctx, t.Store(), key)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	r := parquet.NewGenericReader[T](bytes.NewReader(data))
	defer r.Close()
	rows := make([]T, r.NumRows())
	n := 0
	for n < len(rows) {
		k, err := r.Read(rows[n:])
		n += k
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("decode %s: %w", key, err)
		}
	}
	return rows[:n], nil
}
