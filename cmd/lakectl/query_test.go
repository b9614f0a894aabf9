package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestQueryAsOfBeforeATableExisted: --as-of reads every table as it was then; a table
// that did not exist yet (or has no such version) is left out with a note, rather
// than failing a query that does not read it.
func TestQueryAsOfBeforeATableExisted(t *testing.T) {
	dir := t.TempDir()
	ref := filepath.Join(dir, "reference")
	if err := os.MkdirAll(ref, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"lakectl.yaml":           "reference:\n  users: {file: reference/users.csv}\n  plans: {file: reference/plans.csv}\n",
		"reference/users.csv":    "user_id,country\nu1,DE\nu2,FR\n",
		"reference/plans.csv":    "plan\nfree\n",
		"reference/users-v1.csv": "user_id,country\nu1,DE\nu2,FR\nu3,NL\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mustLakectl(t, "ref", "load", "users", "-p", dir)
	time.Sleep(20 * time.Millisecond) // commit times are in milliseconds
	between := time.Now().UTC().Format(time.RFC3339Nano)
	time.Sleep(20 * time.Millisecond)
	mustLakectl(t, "ref", "load", "plans", "-p", dir)
	mustLakectl(t, "ref", "load", "users", filepath.Join(dir, "reference/users-v1.csv"), "-p", dir)

	for _, tt := range []struct {
		asOf string
		want string
	}{
		{between, "n\n2\n"}, // plans did not exist yet
		{"1", "n\n3\n"},     // plans has no v1
	} {
		res := runLakectl(t, "query", "-p", dir, "--format", "csv", "--as-of", tt.asOf, "SELECT count(*) AS n FROM ref.users")
		if res.exitCode != 0 || res.stdout != tt.want {
			t.Errorf("query --as-of %s: exit %d, stdout %q, stderr %q; want %q", tt.asOf, res.exitCode, res.stdout, res.stderr, tt.want)
		}
		if !strings.Contains(res.stderr, "ref.plans") {
			t.Errorf("query --as-of %s: stderr %q does not say that ref.plans was left out", tt.asOf, res.stderr)
		}
	}
}
