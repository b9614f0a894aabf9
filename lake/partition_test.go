package lake_test

import (
	"testing"

	"github.com/lakectl/lakectl/lake"
)

func TestHiveEscape(t *testing.T) {
	for in, want := range map[string]string{
		"us":           "us",
		"eu/west=1":    "eu%2Fwest%3D1",
		"a b":          "a b",
		"100%":         "100%25",
		"x:y?z#":       "x%3Ay%3Fz%23",
		"2026-11-21":   "2026-11-21",
		"tab\there":    "tab%09here",
		`q"uo'te\back`: "q%22uo%27te%5Cback",
	} {
		if got := lake.HiveEscape(in); got != want {
			t.Errorf("HiveEscape(%q) = %q, want %q", in, got, want)
		}
	}
}

func ptr(s string) *string { return &s }

// A directory says exactly the log's partition values: an integer as Delta
// serializes it (no padding), a null as Hive's default partition, any value one
// escaped segment.
func TestPartitionDir(t *testing.T) {
	cols := []string{"d", "h"}
	for _, c := range []struct {
		values map[string]*string
		want   string
	}{
		{map[string]*string{"d": ptr("2026-11-20"), "h": ptr("9")}, "d=2026-11-20/h=9"},
		{map[string]*string{"d": ptr("2026-11-20"), "h": nil}, "d=2026-11-20/h=__HIVE_DEFAULT_PARTITION__"},
		{map[string]*string{"d": ptr("2026-11-20 08:00:00"), "h": ptr("a/b")}, "d=2026-11-20 08%3A00%3A00/h=a%2Fb"},
		{map[string]*string{"d": ptr(""), "h": ptr("0")}, "d=/h=0"},
	} {
		if got := lake.PartitionDir(cols, c.values); got != c.want {
			t.Errorf("PartitionDir(%v) = %q, want %q", c.values, got, c.want)
		}
	}
	if got := lake.PartitionDir(nil, nil); got != "" {
		t.Errorf("PartitionDir of an unpartitioned table = %q, want empty", got)
	}
	if got := lake.DataFilePath(nil, nil, "part-1.parquet"); got != "part-1.parquet" {
		t.Errorf("DataFilePath of an unpartitioned table = %q", got)
	}
}

func TestPartitionPathAgrees(t *testing.T) {
	cols := []string{"ingest_date", "ingest_hour"}
	pv := map[string]*string{"ingest_date": ptr("2026-11-20"), "ingest_hour": ptr("9")}
	for path, want := range map[string]bool{
		"ingest_date=2026-11-20/ingest_hour=9/part-1.parquet":   true,
		"ingest_date=2026-11-20/ingest_hour=09/part-1.parquet":  false, // Bronze before: the log's "9" is authoritative
		"ingest_date=2026-11-20/ingest_hour=9/x/part-1.parquet": false,
		"ingest_hour=9/ingest_date=2026-11-20/part-1.parquet":   false,
		"part-1.parquet": false,
		"s3://bucket/t/ingest_date=2026-11-20/ingest_hour=9/part-1.parquet": false,
	} {
		a := lake.Add{Path: lake.EncodePath(path), PartitionValues: pv}
		if a.PartitionPathAgrees(cols) != want {
			t.Errorf("%s: agrees %v, want %v", path, !want, want)
		}
	}
	if !(lake.Add{Path: "part-1.parquet"}).PartitionPathAgrees(nil) {
		t.Error("a file at the root of an unpartitioned table does not agree")
	}
	// The log's path is URL-encoded; the directory compares decoded.
	a := lake.Add{Path: lake.EncodePath("d=a%2Fb/f.parquet"), PartitionValues: map[string]*string{"d": ptr("a/b")}}
	if !a.PartitionPathAgrees([]string{"d"}) {
		t.Errorf("%s: an escaped value does not agree", a.Path)
	}
}
