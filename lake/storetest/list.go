package storetest

import (
	"errors"
	"io/fs"
	"slices"
	"testing"

	"github.com/lakectl/lakectl/lake"
)

func keysOf(infos []lake.ObjectInfo) []string {
	keys := make([]string, len(infos))
	for i, o := range infos {
		keys[i] = o.Key
	}
	return keys
}

func testList(t *testing.T, s lake.Store) {
	// Written out of order, with keys where directory order differs from key order:
	// "a-c" < "a/b" < "a0" because '-' < '/' < '0'.
	keys := []string{
		"a/b", "a0", "a-c", "a/x/y/z", "a/x/w", "b", "ab/c",
		"t/_delta_log/00000000000000000002.json",
		"t/_delta_log/00000000000000000000.json",
		"t/_delta_log/00000000000000000001.json",
		"t/_delta_log/00000000000000000010.checkpoint.parquet",
		"t/_delta_log/_last_checkpoint",
		"t/event_date=2026-11-21/part-1.parquet",
	}
	for i, k := range keys {
		put(t, s, k, make([]byte, i))
	}
	sizes := map[string]int64{}
	for i, k := range keys {
		sizes[k] = int64(i)
	}
	cases := []struct {
		name, prefix, startAfter string
		want                     []string
	}{
		{"all", "", "", []string{
			"a-c", "a/b", "a/x/w", "a/x/y/z", "a0", "ab/c", "b",
			"t/_delta_log/00000000000000000000.json",
			"t/_delta_log/00000000000000000001.json",
			"t/_delta_log/00000000000000000002.json",
			"t/_delta_log/00000000000000000010.checkpoint.parquet",
			"t/_delta_log/_last_checkpoint",
			"t/event_date=2026-11-21/part-1.parquet",
		}},
		{"directory prefix", "a/", "", []string{"a/b", "a/x/w", "a/x/y/z"}},
		{"partial name prefix", "a", "", []string{"a-c", "a/b", "a/x/w", "a/x/y/z", "a0", "ab/c"}},
		{"nested prefix", "a/x/", "", []string{"a/x/w", "a/x/y/z"}},
		{"prefix inside a name", "t/_delta_log/0000", "", []string{
			"t/_delta_log/00000000000000000000.json",
			"t/_delta_log/00000000000000000001.json",
			"t/_delta_log/00000000000000000002.json",
			"t/_delta_log/00000000000000000010.checkpoint.parquet",
		}},
		{"start after a version", "t/_delta_log/", "t/_delta_log/00000000000000000001.json", []string{
			"t/_delta_log/00000000000000000002.json",
			"t/_delta_log/00000000000000000010.checkpoint.parquet",
			"t/_delta_log/_last_checkpoint",
		}},
		{"start after a key that does not exist", "a", "a/c", []string{"a/x/w", "a/x/y/z", "a0", "ab/c"}},
		{"start after before the prefix", "a/", "0", []string{"a/b", "a/x/w", "a/x/y/z"}},
		{"start after everything", "a/", "a/zzz", nil},
		{"exact key as prefix", "b", "", []string{"b"}},
		{"no match", "nothing/", "", nil},
		{"no match inside a name", "t/_delta_log/1", "", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := s.List(t.Context(), c.prefix, c.startAfter)
			if err != nil {
				t.Fatalf("List(%q, %q): %v", c.prefix, c.startAfter, err)
			}
			if !slices.Equal(keysOf(got), c.want) {
				t.Errorf("List(%q, %q) =\n%q\nwant\n%q", c.prefix, c.startAfter, keysOf(got), c.want)
			}
			for _, o := range got {
				if o.Size != sizes[o.Key] {
					t.Errorf("List: %s has size %d, want %d", o.Key, o.Size, sizes[o.Key])
				}
				if o.ModTime.IsZero() {
					t.Errorf("List: %s has no ModTime", o.Key)
				}
			}
		})
	}
}

func testDelete(t *testing.T, s lake.Store) {
	ctx := t.Context()
	put(t, s, "d/one", []byte("1"))
	put(t, s, "d/two", []byte("2"))
	if err := s.Delete(ctx, "d/one"); err != nil {
		t.Fatalf("Delete existing: %v", err)
	}
	if _, err := s.Get(ctx, "d/one"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Get after Delete: error = %v, want fs.ErrNotExist", err)
	}
	if err := s.Delete(ctx, "d/one"); err != nil {
		t.Errorf("Delete twice: %v, want nil", err)
	}
	if err := s.Delete(ctx, "never/was"); err != nil {
		t.Errorf("Delete missing: %v, want nil", err)
	}
	got, err := s.List(ctx, "d/", "")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"d/two"}; !slices.Equal(keysOf(got), want) {
		t.Errorf("List after Delete = %q, want %q", keysOf(got), want)
	}
	wantBytes(t, "the other object", get(t, s, "d/two"), []byte("2"))
	// A deleted key can be created again, also exclusively.
	if err := s.PutIfAbsent(ctx, "d/one", []byte("again")); err != nil {
		t.Errorf("PutIfAbsent after Delete: %v", err)
	}
}
