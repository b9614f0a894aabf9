package storetest

import (
	"bytes"
	"testing"

	"github.com/lakectl/lakectl/lake"
)

// Copy puts every object of src into dst under the same key: a snapshot of a lake
// that a test can then take apart or read elsewhere without touching the original.
func Copy(t testing.TB, dst, src lake.Store) {
	t.Helper()
	ctx := t.Context()
	objs, err := src.List(ctx, "", "")
	if err != nil {
		t.Fatalf("copy: list: %v", err)
	}
	for _, o := range objs {
		data, err := lake.ReadAll(ctx, src, o.Key)
		if err != nil {
			t.Fatalf("copy %s: %v", o.Key, err)
		}
		if err := dst.Put(ctx, o.Key, bytes.NewReader(data), int64(len(data))); err != nil {
			t.Fatalf("copy %s: %v", o.Key, err)
		}
	}
}
