// Package golden finds the shared test data (../shared/testdata beside the repository,
// where CI clones it) and decodes the Delta golden tables' expectations, for the tests
// of any package.
//
//	dir := golden.DeltaDir(t)               // .../shared/testdata/delta-golden
//	want := golden.LoadDeltaExpected(t, "simple_table")
package golden

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Dir returns the shared testdata directory: the first `shared/testdata` found in the
// working directory or one of its parents.
func Dir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		cand := filepath.Join(dir, "shared", "testdata")
		if st, err := os.Stat(cand); err == nil && st.IsDir() {
			return cand, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no shared/testdata in the working directory or its parents")
		}
		dir = parent
	}
}

// TestdataDir returns the shared testdata directory. Without it the test fails when
// CI=true and is skipped otherwise.
func TestdataDir(t testing.TB) string {
	t.Helper()
	dir, err := Dir()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("shared test data: %v", err)
		}
		t.Skipf("shared test data: %v", err)
	}
	return dir
}

// DeltaDir returns the directory of the Delta golden tables.
func DeltaDir(t testing.TB) string {
	t.Helper()
	return filepath.Join(TestdataDir(t), "delta-golden")
}

// DeltaExpected is what a correct reader reports for a golden table's latest version.
type DeltaExpected struct {
	Version          int64            `json:"version"`
	MinReaderVersion int              `json:"minReaderVersion"`
	MinWriterVersion int              `json:"minWriterVersion"`
	PartitionColumns []string         `json:"partitionColumns"`
	Files            []DeltaFile      `json:"files"`
	Txns             map[string]int64 `json:"txns"`
}

// DeltaFile is one live file: path percent-decoded, null partition values nil.
type DeltaFile struct {
	Path            string             `json:"path"`
	PartitionValues map[string]*string `json:"partitionValues"`
	Size            int64              `json:"size"`
	NumRecords      *int64             `json:"numRecords"`
}

// DeltaTables returns the names of the golden tables that have an expectation.
func DeltaTables(t testing.TB) []string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(DeltaDir(t), "*.expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range matches {
		names = append(names, strings.TrimSuffix(filepath.Base(m), ".expected.json"))
	}
	sort.Strings(names)
	return names
}

// LoadDeltaExpected reads NAME.expected.json.
func LoadDeltaExpected(t testing.TB, name string) DeltaExpected {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(DeltaDir(t), name+".expected.json"))
	if err != nil {
		t.Fatalf("golden %s: %v", name, err)
	}
	var e DeltaExpected
	if err := json.Unmarshal(data, &e); err != nil {
		t.Fatalf("golden %s: %v", name, err)
	}
	return e
}
