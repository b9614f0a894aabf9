package fs_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/fs"
	"github.com/lakectl/lakectl/lake/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) lake.Store { return newStore(t) })
}

func newStore(t *testing.T) *fs.Store {
	t.Helper()
	s, err := fs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTempFilesNeverListed(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	if err := s.Put(ctx, "t/a", strings.NewReader("a"), 1); err != nil {
		t.Fatal(err)
	}
	// A writer that crashed mid-write leaves a temp file behind.
	if err := os.WriteFile(filepath.Join(s.Root(), "t", ".tmp-123"), []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := s.List(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Key != "t/a" {
		t.Errorf("List = %v, want only t/a", got)
	}
}

func TestFailedWritesLeaveNothing(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	cases := []struct {
		name string
		put  func() error
	}{
		{"reader error", func() error {
			return s.Put(ctx, "d/x", io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(errors.New("disk on fire"))), -1)
		}},
		{"short reader", func() error { return s.Put(ctx, "d/y", strings.NewReader("abc"), 10) }},
		{"long reader", func() error { return s.Put(ctx, "d/z", strings.NewReader("abc"), 2) }},
		{"lost PutIfAbsent", func() error {
			if err := s.PutIfAbsent(ctx, "d/c", []byte("1")); err != nil {
				return nil // report the missing error below
			}
			return s.PutIfAbsent(ctx, "d/c", []byte("2"))
		}},
	}
	for _, c := range cases {
		if err := c.put(); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
	entries, err := os.ReadDir(filepath.Join(s.Root(), "d"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"c"}; !slices.Equal(names, want) {
		t.Errorf("files in d/ = %q, want %q (no temp files, no partial objects)", names, want)
	}
}

func TestInvalidKeys(t *testing.T) {
	s := newStore(t)
	for _, key := range []string{"", "/abs", "../escape", "a/../../b", "a//b", "a/./b", "dir/", ".tmp-x", "a/.tmp-1"} {
		if err := s.PutIfAbsent(t.Context(), key, []byte("x")); err == nil || errors.Is(err, lake.ErrExists) {
			t.Errorf("PutIfAbsent(%q) error = %v, want an invalid-key error", key, err)
		}
	}
}

func TestLocalPath(t *testing.T) {
	s := newStore(t)
	key := "silver/events/event_date=2026-11-21/part-1.parquet"
	if err := s.PutIfAbsent(t.Context(), key, []byte("PAR1")); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(s.LocalPath(key))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "PAR1" {
		t.Errorf("file at LocalPath holds %q, want %q", got, "PAR1")
	}
	if !filepath.IsAbs(s.LocalPath(key)) {
		t.Errorf("LocalPath(%q) = %q, want an absolute path", key, s.LocalPath(key))
	}
}

func TestListStaysInsideRoot(t *testing.T) {
	parent := t.TempDir()
	if err := os.WriteFile(filepath.Join(parent, "secret"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := fs.New(filepath.Join(parent, "lake"))
	if err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"../", "../s", "/", "a//"} {
		got, err := s.List(t.Context(), prefix, "")
		if err != nil || len(got) != 0 {
			t.Errorf("List(%q) = %v, %v; want nothing", prefix, got, err)
		}
	}
}
