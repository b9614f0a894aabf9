package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCorruptCommit empties the commit that added b1, as a torn write or a careless
// copy can, and checks that `table show` fails naming the file and that vacuum deletes
// nothing: with the add lost, b1 would look unreferenced.
func TestCorruptCommit(t *testing.T) {
	e := newEvents(t)
	const file = "_delta_log/00000000000000000001.json"
	if err := os.WriteFile(filepath.Join(e.dir, filepath.FromSlash(file)), nil, 0o644); err != nil {
		t.Fatal(err)
	}

	show := runLakectl(t, "table", "show", e.dir)
	if show.exitCode == 0 || !strings.Contains(show.stderr, file+": empty commit file") || !strings.Contains(show.stderr, "hint:") {
		t.Errorf("table show: exit %d, stderr %q; want a failure naming %s as an empty commit file, with a hint", show.exitCode, show.stderr, file)
	}

	for _, args := range [][]string{
		{"vacuum", e.dir, "--retain", "0", "--force", "--dry-run"},
		{"vacuum", e.dir, "--retain", "0", "--force"},
	} {
		res := runLakectl(t, args...)
		if res.exitCode == 0 || !strings.Contains(res.stderr, "refusing to delete anything") || !strings.Contains(res.stderr, file) {
			t.Errorf("%s: exit %d, stderr %q; want a refusal naming %s", strings.Join(args, " "), res.exitCode, res.stderr, file)
		}
		if strings.Contains(res.stdout, e.b1.DecodedPath()) {
			t.Errorf("%s lists %s for deletion:\n%s", strings.Join(args, " "), e.b1.DecodedPath(), res.stdout)
		}
	}
	for _, p := range []string{e.a1.DecodedPath(), e.b1.DecodedPath(), e.a2.DecodedPath(), e.orphanOld} {
		if !e.exists(t, p) {
			t.Errorf("vacuum deleted %s", p)
		}
	}
}
