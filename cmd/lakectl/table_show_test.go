package main

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lakectl/lakectl/lake"
)

// TestTableShowGolden checks `table show --json` against every golden table that other
// Delta implementations wrote: each key of NAME.expected.json must have the same value.
func TestTableShowGolden(t *testing.T) {
	golden := filepath.Join(sharedTestdata(t), "delta-golden")
	expectations, err := filepath.Glob(filepath.Join(golden, "*.expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(expectations) == 0 {
		t.Fatalf("no *.expected.json in %s", golden)
	}
	for _, expPath := range expectations {
		name := strings.TrimSuffix(filepath.Base(expPath), ".expected.json")
		t.Run(name, func(t *testing.T) {
			out := mustLakectl(t, "table", "show", filepath.Join(golden, name), "--json")
			checkShowGolden(t, expPath, out)
		})
	}
}

// checkShowGolden checks the output of `table show --json` against the golden
// NAME.expected.json at expPath: each of its keys must have the same value.
func checkShowGolden(t *testing.T, expPath, out string) {
	t.Helper()
	var want map[string]any
	readJSONFile(t, expPath, &want)
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, out)
	}
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if !reflect.DeepEqual(got[k], want[k]) {
			t.Errorf("%s:\ngot  %s\nwant %s", k, mustJSON(t, got[k]), mustJSON(t, want[k]))
		}
	}
}

// TestTableRefusesUnsupportedFeatures checks that tables needing features lakectl does
// not implement are refused by every table command, naming the feature, and that
// nothing in them is written or deleted.
func TestTableRefusesUnsupportedFeatures(t *testing.T) {
	golden := filepath.Join(sharedTestdata(t), "delta-golden")
	cases := []struct {
		table   string
		feature string // normalized: lowercase, no separators
	}{
		{"table-with-dv-small", "deletionvectors"},
		{"table_with_column_mapping", "columnmapping"},
	}
	commands := map[string]func(dir string) []string{
		"show":           func(dir string) []string { return []string{"table", "show", dir} },
		"show-json":      func(dir string) []string { return []string{"table", "show", dir, "--json"} },
		"history":        func(dir string) []string { return []string{"table", "history", dir} },
		"vacuum-dry-run": func(dir string) []string { return []string{"vacuum", dir, "--retain", "0h", "--dry-run"} },
		"vacuum":         func(dir string) []string { return []string{"vacuum", dir, "--retain", "0h", "--force"} },
	}
	for _, c := range cases {
		for name, command := range commands {
			t.Run(c.table+"/"+name, func(t *testing.T) {
				// A copy, so that a vacuum that wrongly proceeded cannot harm the fixture.
				dir := copyTree(t, filepath.Join(golden, c.table))
				before := treeState(t, dir)
				args := command(dir)
				res := runLakectl(t, args...)
				if res.exitCode == 0 {
					t.Fatalf("lakectl %q: exit 0, want non-zero\nstdout: %s", args, res.stdout)
				}
				if !strings.Contains(normalizeFeature(res.stderr), c.feature) {
					t.Errorf("stderr does not name the feature %s:\n%s", c.feature, res.stderr)
				}
				if after := treeState(t, dir); !reflect.DeepEqual(after, before) {
					t.Errorf("the table changed:\nbefore %v\nafter  %v", before, after)
				}
			})
		}
	}
}

func TestParseAsOf(t *testing.T) {
	cases := []struct {
		in   string
		want time.Time
	}{
		{"2026-11-21T08:30:00Z", time.Date(2026, 11, 21, 8, 30, 0, 0, time.UTC)},
		{"2026-11-21T09:30:00+01:00", time.Date(2026, 11, 21, 8, 30, 0, 0, time.UTC)},
		{"2026-11-21T08:30:00.250Z", time.Date(2026, 11, 21, 8, 30, 0, 250e6, time.UTC)},
		{"2026-11-21", time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		got, err := parseAsOf(c.in)
		if err != nil {
			t.Errorf("parseAsOf(%q): %v", c.in, err)
			continue
		}
		if !got.Equal(c.want) {
			t.Errorf("parseAsOf(%q) = %s, want %s", c.in, got, c.want)
		}
	}
	for _, bad := range []string{"", "yesterday", "2026-11-21 08:30", "21/11/2026"} {
		if _, err := parseAsOf(bad); err == nil {
			t.Errorf("parseAsOf(%q): no error", bad)
		}
	}
}

func normalizeFeature(s string) string {
	return strings.NewReplacer(" ", "", "_", "", "-", "", ".", "").Replace(strings.ToLower(s))
}

func readJSONFile(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// copyTree copies the directory src into a new temporary directory and returns it.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
	return dst
}

// treeState maps every file under dir to a digest of its content, to see whether a
// command wrote or deleted anything.
func treeState(t *testing.T, dir string) map[string]string {
	t.Helper()
	state := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		state[rel] = fmt.Sprintf("%x", sha256.Sum256(data))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return state
}

// TestTableShowTimeTravel checks --version and --as-of on a table the test wrote.
func TestTableShowTimeTravel(t *testing.T) {
	e := newEvents(t)
	var history []historyRow
	if err := json.Unmarshal([]byte(mustLakectl(t, "table", "history", e.dir, "--json")), &history); err != nil {
		t.Fatal(err)
	}
	if len(history) != 3 {
		t.Fatalf("history has %d commits, want 3", len(history))
	}
	type state struct {
		files []string
		txns  map[string]int64
	}
	a1, a2, b1 := e.a1.DecodedPath(), e.a2.DecodedPath(), e.b1.DecodedPath()
	byVersion := map[int64]state{
		0: {[]string{a1}, map[string]int64{}},
		1: {sorted([]string{a1, b1}), map[string]int64{"demo/app": 7}},
		2: {sorted([]string{a2, b1}), map[string]int64{"demo/app": 7}},
	}
	cases := []struct {
		name    string
		args    []string
		version int64
	}{
		{"latest", nil, 2},
		{"version 0", []string{"--version", "0"}, 0},
		{"version 1", []string{"--version", "1"}, 1},
		{"as of v1's commit time", []string{"--as-of", history[1].Timestamp.Format(time.RFC3339)}, 1},
		{"as of just before v2", []string{"--as-of", history[2].Timestamp.Add(-time.Second).Format(time.RFC3339)}, 1},
		{"as of a date after the last commit (yesterday)", []string{"--as-of", time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)}, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"table", "show", e.dir, "--json"}, c.args...)
			var view showView
			if err := json.Unmarshal([]byte(mustLakectl(t, args...)), &view); err != nil {
				t.Fatal(err)
			}
			if view.Version != c.version {
				t.Fatalf("version %d, want %d", view.Version, c.version)
			}
			if !view.Timestamp.Equal(history[c.version].Timestamp) {
				t.Errorf("timestamp %s, want v%d's commit time %s", view.Timestamp, c.version, history[c.version].Timestamp)
			}
			want := byVersion[c.version]
			var files []string
			for _, f := range view.Files {
				files = append(files, f.Path)
			}
			if !slices.Equal(files, want.files) {
				t.Errorf("files %q, want %q", files, want.files)
			}
			if !maps.Equal(view.Txns, want.txns) {
				t.Errorf("txns %v, want %v", view.Txns, want.txns)
			}
		})
	}

	refused := map[string][]string{
		"a version not written yet":  {"--version", "3"},
		"a negative version":         {"--version", "-1"},
		"before the first commit":    {"--as-of", history[0].Timestamp.Add(-time.Second).Format(time.RFC3339)},
		"both selectors":             {"--version", "1", "--as-of", "2026-01-01"},
		"a time that does not parse": {"--as-of", "last tuesday"},
	}
	for name, flags := range refused {
		t.Run(name, func(t *testing.T) {
			res := runLakectl(t, append([]string{"table", "show", e.dir}, flags...)...)
			if res.exitCode == 0 || res.stderr == "" {
				t.Errorf("flags %q: exit %d, stderr %q; want a non-zero exit and an error", flags, res.exitCode, res.stderr)
			}
		})
	}
}

// TestTableShowText checks that the summary names what --json reports.
func TestTableShowText(t *testing.T) {
	e := newEvents(t)
	out := mustLakectl(t, "table", "show", e.dir)
	for _, want := range []string{
		"Version         2 ",
		"Protocol        reader 1, writer 2",
		"Partitioned by  p",
		"Files           2 live",
		"6 records",
		e.a2.DecodedPath(), e.b1.DecodedPath(),
		"demo/app", "name", "string",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, e.a1.DecodedPath()) {
		t.Errorf("output lists the removed file %s:\n%s", e.a1.DecodedPath(), out)
	}
}

// TestTableShowNullPartition: a null partition value prints as null in --json, whether
// the log writes it as null or as "" (the protocol's two spellings of a null partition).
func TestTableShowNullPartition(t *testing.T) {
	f := newFixtureTable(t)
	empty := f.writeFile(t, "", "empty", 1)
	missing := f.writeFile(t, "x", "missing", 1)
	missing.PartitionValues = map[string]*string{"p": nil}
	f.commit(t, "WRITE", []lake.Add{empty, missing}, nil, nil)
	var raw struct {
		Files []struct {
			Path            string                     `json:"path"`
			PartitionValues map[string]json.RawMessage `json:"partitionValues"`
		} `json:"files"`
	}
	if err := json.Unmarshal([]byte(mustLakectl(t, "table", "show", f.dir, "--json")), &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw.Files) != 2 {
		t.Fatalf("%d files, want 2", len(raw.Files))
	}
	for _, file := range raw.Files {
		if got := string(file.PartitionValues["p"]); got != "null" {
			t.Errorf("%s: partition value p %s, want null", file.Path, got)
		}
	}
}
