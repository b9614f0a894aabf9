package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestStoreURLIsStrict: a store URL that would not open as written is an error naming
// where it came from (lakectl.yaml's line and key, --lake, $LAKECTL_LAKE), never a
// local directory named after it ("s3://" used to become ./s3:).
func TestStoreURLIsStrict(t *testing.T) {
	pdir := t.TempDir()
	if err := os.WriteFile(filepath.Join(pdir, "lakectl.yaml"), []byte("store: \"s3://\"\nstreams:\n  events: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	good := t.TempDir()
	if err := os.WriteFile(filepath.Join(good, "lakectl.yaml"), []byte("store: lake\nstreams:\n  events: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"lakectl.yaml, status", nil, []string{"status", "-p", pdir}, `lakectl.yaml:1: store: s3 URL "s3://" names no bucket`},
		{"lakectl.yaml, compact", nil, []string{"compact", "bronze", "--sealed", "-p", pdir}, `lakectl.yaml:1: store: s3 URL "s3://" names no bucket`},
		{"lakectl.yaml, run silver", nil, []string{"run", "silver", "--pending", "-p", pdir}, `lakectl.yaml:1: store: s3 URL "s3://" names no bucket`},
		{"--lake without a pipeline", nil, []string{"compact", "bronze", "--sealed", "--lake", "s3:"}, `lake URL "s3:": a path that starts with "s3:" reads as a URL without its "//": write s3://`},
		{"--lake over a pipeline", []string{"LAKECTL_PIPELINE=" + good}, []string{"compact", "bronze", "--sealed", "--lake", "s3:"}, `command line: --lake: lake URL "s3:"`},
		{"$LAKECTL_LAKE over a pipeline", []string{"LAKECTL_PIPELINE=" + good, "LAKECTL_LAKE=s3:/bucket"}, []string{"compact", "bronze", "--sealed"}, `environment: LAKECTL_LAKE: lake URL "s3:/bucket"`},
		{"unknown scheme", nil, []string{"compact", "bronze", "--sealed", "--lake", "gs://bucket/lake"}, `unknown scheme "gs"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cwd := t.TempDir()
			cmd := exec.CommandContext(t.Context(), lakectlBin, tt.args...)
			cmd.Dir, cmd.Env = cwd, append(os.Environ(), tt.env...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			if err == nil || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("lakectl %v: %v, stderr:\n%s\nwant exit 1 and %q", tt.args, err, stderr.String(), tt.want)
			}
			if entries, _ := os.ReadDir(cwd); len(entries) > 0 {
				t.Errorf("lakectl %v left %v in the working directory, want nothing", tt.args, entries)
			}
		})
	}
}
