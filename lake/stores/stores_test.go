package stores_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lakectl/lakectl/internal/s3server"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/stores"
	"github.com/prometheus/client_golang/prometheus"
)

func TestOpenLocal(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	cases := []struct{ url, dir string }{
		{"file://" + filepath.ToSlash(filepath.Join(dir, "a")), filepath.Join(dir, "a")},
		{"file://localhost" + filepath.ToSlash(filepath.Join(dir, "b")), filepath.Join(dir, "b")},
		{filepath.Join(dir, "c"), filepath.Join(dir, "c")},
		{"rel/d", filepath.Join(dir, "rel", "d")},
		{".", dir},
	}
	for _, c := range cases {
		s, err := stores.Open(t.Context(), c.url, stores.Options{})
		if err != nil {
			t.Fatalf("Open(%q): %v", c.url, err)
		}
		ls, ok := s.(lake.LocalStore)
		if !ok {
			t.Fatalf("Open(%q) is not a lake.LocalStore", c.url)
		}
		if err := s.PutIfAbsent(t.Context(), "t/x", []byte(c.url)); err != nil {
			t.Fatal(err)
		}
		want := filepath.Join(c.dir, "t", "x")
		if got := ls.LocalPath("t/x"); got != want {
			t.Errorf("Open(%q).LocalPath = %q, want %q", c.url, got, want)
		}
		if got, err := os.ReadFile(want); err != nil || string(got) != c.url {
			t.Errorf("Open(%q): file %s holds %q (%v), want %q", c.url, want, got, err, c.url)
		}
	}
}

func TestOpenRejects(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, url := range []string{"", "file://host/x", "file://relative", "ftp://x/y", "s3://", "s3://b?nope=1", "s3:", "s3:/b/x", "s3:b"} {
		if _, err := stores.Open(t.Context(), url, stores.Options{}); err == nil {
			t.Errorf("Open(%q) succeeded, want an error", url)
		}
	}
	// A URL that lost its "//" is refused, not made a directory of that name.
	if entries, err := os.ReadDir("."); err != nil || len(entries) > 0 {
		t.Errorf("Open of bad URLs left %v in the working directory (%v), want nothing", entries, err)
	}
	if _, err := stores.Open(t.Context(), "s3:", stores.Options{}); err == nil || !strings.Contains(err.Error(), "write s3://") {
		t.Errorf(`Open("s3:") = %v, want a hint to write s3://`, err)
	}
}

func TestOpenMemIsFresh(t *testing.T) {
	a, err := stores.Open(t.Context(), "mem://", stores.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := stores.Open(t.Context(), "mem://", stores.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.PutIfAbsent(t.Context(), "k", []byte("a")); err != nil {
		t.Fatal(err)
	}
	if err := b.PutIfAbsent(t.Context(), "k", []byte("b")); err != nil {
		t.Errorf("second mem:// store shares objects with the first: %v", err)
	}
}

func TestOpenReadOnly(t *testing.T) {
	dir := t.TempDir()
	s, err := stores.Open(t.Context(), dir, stores.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	for name, err := range map[string]error{
		"Put":         s.Put(ctx, "k", strings.NewReader("x"), 1),
		"PutIfAbsent": s.PutIfAbsent(ctx, "k", []byte("x")),
		"Delete":      s.Delete(ctx, "k"),
	} {
		if !errors.Is(err, stores.ErrReadOnly) {
			t.Errorf("%s on a read-only store: error = %v, want ErrReadOnly", name, err)
		}
	}
	if _, ok := s.(lake.LocalStore); !ok {
		t.Error("read-only local store is not a lake.LocalStore")
	}
	if list, err := s.List(ctx, "", ""); err != nil || len(list) != 0 {
		t.Errorf("List on read-only store = %v, %v; want empty", list, err)
	}
}

// TestOpenS3 opens a versitygw bucket by URL with credentials from the environment
// and checks, through the metrics, that the conditional-write probe ran.
func TestOpenS3(t *testing.T) {
	srv := s3server.Start(t, s3server.VersityGW)
	env := map[string]string{"AWS_ACCESS_KEY_ID": srv.AccessKey, "AWS_SECRET_ACCESS_KEY": srv.SecretKey}
	getenv := func(k string) string { return env[k] }
	url := srv.URL(s3server.UniquePrefix(t))

	reg := prometheus.NewRegistry()
	s, err := stores.Open(t.Context(), url, stores.Options{Getenv: getenv, Registerer: reg})
	if err != nil {
		t.Fatalf("Open(%s): %v", url, err)
	}
	probes := opCounts(t, reg)
	if probes["put_if_absent/ok"] != 1 || probes["put_if_absent/exists"] != 1 || probes["delete/ok"] != 1 {
		t.Errorf("operations during Open = %v, want the probe: one put_if_absent ok, one exists, one delete", probes)
	}
	if err := s.PutIfAbsent(t.Context(), "_delta_log/0.json", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if got, err := lake.ReadAll(t.Context(), s, "_delta_log/0.json"); err != nil || string(got) != "{}" {
		t.Errorf("read back %q, %v", got, err)
	}
	if list, err := s.List(t.Context(), "", ""); err != nil || len(list) != 1 {
		t.Errorf("List = %v, %v; want only the commit (the probe is gone)", list, err)
	}

	// Read-only skips the probe, which would write.
	reg = prometheus.NewRegistry()
	if _, err := stores.Open(t.Context(), url, stores.Options{Getenv: getenv, Registerer: reg, ReadOnly: true}); err != nil {
		t.Fatal(err)
	}
	if ops := opCounts(t, reg); len(ops) != 0 {
		t.Errorf("read-only Open sent %v, want nothing", ops)
	}

	// Wrong credentials: the probe fails, and so does Open.
	env["AWS_SECRET_ACCESS_KEY"] = "wrong-secret"
	if _, err := stores.Open(t.Context(), url, stores.Options{Getenv: getenv}); err == nil || !strings.Contains(err.Error(), "check conditional writes") {
		t.Errorf("Open with a wrong secret: error = %v, want the failed probe", err)
	}
}

// opCounts returns lakectl_store_operations_total as "operation/outcome" -> count.
func opCounts(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "lakectl_store_operations_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			out[labels["operation"]+"/"+labels["outcome"]] += m.GetCounter().GetValue()
		}
	}
	return out
}
