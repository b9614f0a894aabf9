package lake_test

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/mem"
	"github.com/prometheus/client_golang/prometheus"
)

// gather returns the registry's series of family name as "label=value,..." -> value
// (the sample count, for histograms).
func gather(t *testing.T, reg *prometheus.Registry, name string) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			v := m.GetCounter().GetValue()
			if h := m.GetHistogram(); h != nil {
				v = float64(h.GetSampleCount())
			}
			out[strings.Join(labels, ",")] = v
		}
	}
	return out
}

func wantSeries(t *testing.T, reg *prometheus.Registry, name string, want map[string]float64) {
	t.Helper()
	got := gather(t, reg, name)
	if !maps.Equal(got, want) {
		t.Errorf("%s:\ngot  %v\nwant %v", name, sorted(got), sorted(want))
	}
}

func sorted(m map[string]float64) []string {
	var out []string
	for k, v := range m {
		out = append(out, fmt.Sprintf("%s %g", k, v))
	}
	slices.Sort(out)
	return out
}

func TestMetricsCountOperationsByOutcome(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := lake.NewMetrics(reg).Wrap(mem.New(), "mem")
	ctx := t.Context()
	if err := s.PutIfAbsent(ctx, "k", []byte("12345")); err != nil {
		t.Fatal(err)
	}
	if err := s.PutIfAbsent(ctx, "k", []byte("x")); !errors.Is(err, lake.ErrExists) {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "p", strings.NewReader("abc"), 3); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(ctx, "missing"); err == nil {
		t.Fatal("Stat of a missing key succeeded")
	}
	rc, err := s.Get(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, rc)
	rc.Close()

	wantSeries(t, reg, "lakectl_store_operations_total", map[string]float64{
		"backend=mem,operation=get,outcome=ok":               1,
		"backend=mem,operation=put,outcome=ok":               1,
		"backend=mem,operation=put_if_absent,outcome=exists": 1,
		"backend=mem,operation=put_if_absent,outcome=ok":     1,
		"backend=mem,operation=stat,outcome=not_found":       1,
	})
	wantSeries(t, reg, "lakectl_store_bytes_total", map[string]float64{
		"backend=mem,direction=read":  5,
		"backend=mem,direction=write": 8, // 5 by PutIfAbsent, 3 by Put
	})
	wantSeries(t, reg, "lakectl_store_operation_duration_seconds", map[string]float64{
		"backend=mem,operation=get":           1,
		"backend=mem,operation=put":           1,
		"backend=mem,operation=put_if_absent": 2,
		"backend=mem,operation=stat":          1,
	})
}

func TestMetricsShareOneRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	a := lake.NewMetrics(reg).Wrap(mem.New(), "file")
	b := lake.NewMetrics(reg).Wrap(mem.New(), "s3") // must not panic on re-registration
	a.Delete(t.Context(), "x")
	b.Delete(t.Context(), "x")
	b.Delete(t.Context(), "y")
	wantSeries(t, reg, "lakectl_store_operations_total", map[string]float64{
		"backend=file,operation=delete,outcome=ok": 1,
		"backend=s3,operation=delete,outcome=ok":   2,
	})
}

func TestMetricsTransientOutcome(t *testing.T) {
	reg := prometheus.NewRegistry()
	f := newFlaky(failFirst("stat", 1, errTimeout))
	f.Store.PutIfAbsent(t.Context(), "k", []byte("v"))
	// Metrics below the retries, as lake/stores stacks them: every attempt counts.
	s := lake.WithRetry(lake.NewMetrics(reg).Wrap(f, "s3"), fast)
	if _, err := s.Stat(t.Context(), "k"); err != nil {
		t.Fatal(err)
	}
	wantSeries(t, reg, "lakectl_store_operations_total", map[string]float64{
		"backend=s3,operation=stat,outcome=transient": 1,
		"backend=s3,operation=stat,outcome=ok":        1,
	})
}
