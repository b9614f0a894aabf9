package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestVacuum runs vacuum on a table whose replaced file and one never-committed file
// are older than the retention, beside live files and a file being written now.
func TestVacuum(t *testing.T) {
	e := newEvents(t)
	expired := []string{e.a1.DecodedPath(), e.orphanOld}
	kept := []string{e.a2.DecodedPath(), e.b1.DecodedPath(), e.orphanNew}

	t.Run("dry run lists and deletes nothing", func(t *testing.T) {
		out := mustLakectl(t, "vacuum", e.dir, "--dry-run")
		if got := vacuumedKeys(t, out, "would delete"); !slices.Equal(got, sorted(expired)) {
			t.Errorf("dry run lists %q, want %q\n%s", got, sorted(expired), out)
		}
		checkTotal(t, out, "would delete", len(expired))
		for _, p := range append(expired, kept...) {
			if !e.exists(t, p) {
				t.Errorf("dry run deleted %s", p)
			}
		}
	})

	t.Run("dry run as JSON lists the same files", func(t *testing.T) {
		var view vacuumView
		if err := json.Unmarshal([]byte(mustLakectl(t, "vacuum", e.dir, "--dry-run", "--json")), &view); err != nil {
			t.Fatal(err)
		}
		var keys []string
		var bytes int64
		for _, f := range view.Files {
			keys = append(keys, f.Key)
			bytes += f.Size
		}
		slices.Sort(keys)
		if !view.DryRun || !slices.Equal(keys, sorted(expired)) || view.DataFiles != len(expired) || view.Bytes != bytes || bytes == 0 {
			t.Errorf("vacuum --dry-run --json: %+v, want a dry run of %q with their total size", view, sorted(expired))
		}
	})

	t.Run("a longer retention keeps everything", func(t *testing.T) {
		retain := fmt.Sprintf("%dd", int(fixtureStart/(24*time.Hour))+1)
		out := mustLakectl(t, "vacuum", e.dir, "--dry-run", "--retain", retain)
		if got := vacuumedKeys(t, out, "would delete"); len(got) != 0 {
			t.Errorf("--retain %s lists %q, want nothing", retain, got)
		}
		checkTotal(t, out, "would delete", 0)
	})

	t.Run("a retention under an hour needs --force", func(t *testing.T) {
		res := runLakectl(t, "vacuum", e.dir, "--retain", "10m")
		if res.exitCode == 0 || !strings.Contains(res.stderr, "--force") {
			t.Errorf("vacuum --retain 10m: exit %d, stderr %q; want a refusal naming --force", res.exitCode, res.stderr)
		}
		for _, p := range append(expired, kept...) {
			if !e.exists(t, p) {
				t.Errorf("refused vacuum deleted %s", p)
			}
		}
	})

	t.Run("vacuum deletes what the dry run listed", func(t *testing.T) {
		out := mustLakectl(t, "vacuum", e.dir)
		if got := vacuumedKeys(t, out, "deleted"); !slices.Equal(got, sorted(expired)) {
			t.Errorf("vacuum deleted %q, want %q\n%s", got, sorted(expired), out)
		}
		checkTotal(t, out, "deleted", len(expired))
		for _, p := range expired {
			if e.exists(t, p) {
				t.Errorf("%s is still there", p)
			}
		}
		for _, p := range kept {
			if !e.exists(t, p) {
				t.Errorf("%s was deleted", p)
			}
		}
	})

	t.Run("the table still reads and a second vacuum has nothing to do", func(t *testing.T) {
		var view showView
		if err := json.Unmarshal([]byte(mustLakectl(t, "table", "show", e.dir, "--json")), &view); err != nil {
			t.Fatal(err)
		}
		var live []string
		for _, f := range view.Files {
			live = append(live, f.Path)
		}
		if want := sorted([]string{e.a2.DecodedPath(), e.b1.DecodedPath()}); !slices.Equal(live, want) {
			t.Errorf("live files after vacuum: %q, want %q", live, want)
		}
		out := mustLakectl(t, "vacuum", e.dir)
		checkTotal(t, out, "deleted", 0)
	})
}

func TestParseRetention(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration
	}{
		{"168h", 168 * time.Hour},
		{"7d", 7 * 24 * time.Hour},
		{"90m", 90 * time.Minute},
		{"0", time.Nanosecond}, // zero retains nothing; lake reads 0 as its default
		{"0d", time.Nanosecond},
	}
	for _, c := range cases {
		got, err := parseRetention(c.in)
		if err != nil || got != c.want {
			t.Errorf("parseRetention(%q) = %s, %v; want %s", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "-1h", "-2d", "week", "1.5d"} {
		if d, err := parseRetention(bad); err == nil {
			t.Errorf("parseRetention(%q) = %s, want an error", bad, d)
		}
	}
}

// vacuumedKeys returns, sorted, the keys of the output lines "<verb> KEY (SIZE)".
func vacuumedKeys(t *testing.T, out, verb string) []string {
	t.Helper()
	keys := []string{}
	for line := range strings.Lines(out) {
		rest, ok := strings.CutPrefix(line, verb+" ")
		if !ok {
			continue
		}
		key, _, ok := strings.Cut(rest, " (")
		if !ok {
			t.Fatalf("line %q has no size", line)
		}
		keys = append(keys, key)
	}
	return sorted(keys)
}

// checkTotal checks the closing line's count.
func checkTotal(t *testing.T, out, verb string, n int) {
	t.Helper()
	prefix := fmt.Sprintf("total: %s %d files", verb, n)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, prefix) {
		t.Errorf("last line %q, want it to start with %q", last, prefix)
	}
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
