package main

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
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
			var want map[string]any
			readJSONFile(t, expPath, &want)
			out := mustLakectl(t, "table", "show", filepath.Join(golden, name), "--json")
			var got map[string]any
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("output is not one JSON object: %v\n%s", err, out)
			}
			keys := make([]string, 0, len(want))
			for k := range want {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if !reflect.DeepEqual(got[k], want[k]) {
					t.Errorf("%s:\ngot  %s\nwant %s", k, mustJSON(t, got[k]), mustJSON(t, want[k]))
				}
			}
		})
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
		"vacuum":         func(dir string) []string { return []string{"vacuum", dir, "--retain", "0h"} },
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
