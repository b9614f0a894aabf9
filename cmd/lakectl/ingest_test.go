package main

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/lakectl/lakectl/pipeline"
)

// TestDefaultGroupAgrees: the consumer group `lakectl ingest` joins without a
// pipeline (its --group default) is the one `lakectl init` writes and the one a
// lakectl.yaml without kafka.group means, so that ingest run from flags and from
// the pipeline are members of one group.
func TestDefaultGroupAgrees(t *testing.T) {
	help := mustLakectl(t, "ingest", "--help")
	m := regexp.MustCompile(`--group string\s.*\(default "([^"]*)"\)`).FindStringSubmatch(help)
	if m == nil {
		t.Fatalf("ingest --help shows no default --group:\n%s", help)
	}
	flagDefault := m[1]

	dir := t.TempDir()
	mustLakectl(t, "init", dir)
	p, err := pipeline.Load(filepath.Join(dir, pipeline.FileName), pipeline.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Kafka.Group != flagDefault {
		t.Errorf("lakectl init writes group %q, ingest --help says the default is %q", p.Kafka.Group, flagDefault)
	}

	bare := t.TempDir()
	yaml := "store: lake\nstreams:\n  events: {}\n"
	if err := os.WriteFile(filepath.Join(bare, pipeline.FileName), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	if p, err = pipeline.Load(filepath.Join(bare, pipeline.FileName), pipeline.Overrides{}); err != nil {
		t.Fatal(err)
	}
	if p.Kafka.Group != flagDefault {
		t.Errorf("lakectl.yaml without kafka.group means group %q, ingest --help says the default is %q", p.Kafka.Group, flagDefault)
	}
}
