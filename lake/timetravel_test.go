package lake_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/deltatest"
	"github.com/lakectl/lakectl/lake/mem"
)

// clock is a settable clock for commit timestamps.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

var t0 = time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)

// hourlyTable makes a table with commit v at t0 + v hours, each after v0 appending
// one file.
func hourlyTable(t *testing.T, versions int) (*lake.Table, *mem.Store, *clock) {
	t.Helper()
	c := &clock{now: t0}
	store := mem.New()
	tbl := lake.NewTable(store, "t", lake.WithClock(c.Now))
	if err := deltatest.Create(t.Context(), tbl); err != nil {
		t.Fatal(err)
	}
	for v := 1; v <= versions; v++ {
		c.now = t0.Add(time.Duration(v) * time.Hour)
		if _, err := deltatest.Append(t.Context(), tbl, "w", v); err != nil {
			t.Fatal(err)
		}
	}
	return tbl, store, c
}

func TestTimeTravelByVersion(t *testing.T) {
	tbl, _, _ := hourlyTable(t, 5)
	for v := int64(0); v <= 5; v++ {
		s, err := tbl.At(t.Context(), v)
		if err != nil {
			t.Fatalf("at v%d: %v", v, err)
		}
		if s.Version != v || s.NumFiles() != int(v) || !s.Timestamp.Equal(t0.Add(time.Duration(v)*time.Hour)) {
			t.Errorf("at v%d: v%d, %d files, time %s", v, s.Version, s.NumFiles(), s.Timestamp)
		}
	}
	for _, v := range []int64{6, 100, -1} {
		if _, err := tbl.At(t.Context(), v); !errors.Is(err, lake.ErrVersionNotFound) {
			t.Errorf("at v%d: err = %v, want ErrVersionNotFound", v, err)
		}
	}
}

func TestTimeTravelByTime(t *testing.T) {
	tbl, _, _ := hourlyTable(t, 5)
	cases := []struct {
		at   time.Time
		want int64
	}{
		{t0, 0},
		{t0.Add(2 * time.Hour), 2},
		{t0.Add(2*time.Hour + 30*time.Minute), 2},
		{t0.Add(5*time.Hour - time.Millisecond), 4},
		{t0.Add(5 * time.Hour), 5},
	}
	for _, c := range cases {
		s, err := tbl.AsOf(t.Context(), c.at)
		if err != nil {
			t.Fatalf("as of %s: %v", c.at, err)
		}
		if s.Version != c.want {
			t.Errorf("as of %s: v%d, want v%d", c.at, s.Version, c.want)
		}
	}
	if _, err := tbl.AsOf(t.Context(), t0.Add(-time.Minute)); !errors.Is(err, lake.ErrVersionNotFound) {
		t.Errorf("as of before creation: err = %v, want ErrVersionNotFound", err)
	}
	// The clock stands at v5's commit: a later time has no stable answer yet.
	if _, err := tbl.AsOf(t.Context(), t0.Add(5*time.Hour+time.Second)); !errors.Is(err, lake.ErrVersionNotFound) {
		t.Errorf("as of the future: err = %v, want ErrVersionNotFound", err)
	}
}

// Without commitInfo timestamps (other writers may omit them), the commit file's time
// is the commit time.
func TestTimeTravelByFileTime(t *testing.T) {
	store := mem.New()
	lines := []string{
		`{"protocol":{"minReaderVersion":1,"minWriterVersion":2}}` + "\n" + `{"metaData":{"id":"x","format":{"provider":"parquet","options":{}},"schemaString":"{\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}}]}","partitionColumns":[],"configuration":{}}}`,
		`{"add":{"path":"a.parquet","partitionValues":{},"size":1,"modificationTime":0,"dataChange":true}}`,
		`{"add":{"path":"b.parquet","partitionValues":{},"size":1,"modificationTime":0,"dataChange":true}}`,
	}
	for v, l := range lines {
		key := fmt.Sprintf("t/_delta_log/%020d.json", v)
		if err := store.PutIfAbsent(t.Context(), key, []byte(l+"\n")); err != nil {
			t.Fatal(err)
		}
		store.SetModTime(key, t0.Add(time.Duration(v)*time.Minute))
	}
	c := &clock{now: t0.Add(time.Hour)}
	s, err := lake.NewTable(store, "t", lake.WithClock(c.Now)).AsOf(t.Context(), t0.Add(90*time.Second))
	if err != nil || s.Version != 1 {
		t.Fatalf("as of t0+90s: %v, %v; want v1", s, err)
	}
}

// After vacuum expires the log before a checkpoint, older versions are gone with a
// clear error, and the checkpoint's version and later still load.
func TestTimeTravelAfterLogExpiry(t *testing.T) {
	tbl, store, c := hourlyTable(t, 12)
	c.now = t0.Add(30 * 24 * time.Hour)
	ageAll(t, store, t0)
	res, err := tbl.Vacuum(t.Context(), lake.VacuumOptions{Retain: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if res.LogFiles != 10 {
		t.Errorf("vacuum removed %d log files, want 10 (v0..v9)", res.LogFiles)
	}
	for _, v := range []int64{0, 3, 9} {
		if _, err := tbl.At(t.Context(), v); !errors.Is(err, lake.ErrVersionExpired) {
			t.Errorf("at v%d: err = %v, want ErrVersionExpired", v, err)
		}
	}
	if _, err := tbl.AsOf(t.Context(), t0.Add(3*time.Hour)); !errors.Is(err, lake.ErrVersionExpired) {
		t.Errorf("as of v3's time: err = %v, want ErrVersionExpired", err)
	}
	for _, v := range []int64{10, 11, 12} {
		s, err := tbl.At(t.Context(), v)
		if err != nil || s.NumFiles() != int(v) {
			t.Errorf("at v%d: %v", v, err)
		}
	}
	if s, err := tbl.AsOf(t.Context(), t0.Add(11*time.Hour)); err != nil || s.Version != 11 {
		t.Errorf("as of v11's time: %v", err)
	}
}

// ageAll sets every object's modification time to at.
func ageAll(t *testing.T, store *mem.Store, at time.Time) {
	t.Helper()
	objs, err := store.List(t.Context(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		store.SetModTime(o.Key, at)
	}
}

// TestAsOfMissingTable: a path with no table says so whatever the time asked for, so
// that a caller can tell "no table" from "no version yet".
func TestAsOfMissingTable(t *testing.T) {
	tbl := lake.NewTable(mem.New(), "nothing")
	for _, at := range []time.Time{time.Now().Add(-time.Hour), time.Now().Add(time.Hour)} {
		if _, err := tbl.AsOf(t.Context(), at); !errors.Is(err, lake.ErrNoTable) {
			t.Errorf("AsOf(%s) on a missing table: err = %v, want ErrNoTable", at.Format(time.RFC3339), err)
		}
	}
}
