package serve

import (
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lakectl/lakectl/gold"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/silver"
	"github.com/lakectl/lakectl/views"
)

// chromium is the path of Debian's chromium, skipping the test without it (failing it
// in CI, where .ci/run installs it).
func chromium(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed; .ci/run installs Debian's chromium package")
		}
		t.Skip("chromium is not installed (apt-get install chromium); the status page is not rendered")
	}
	return path
}

// headless runs chromium headless with args, each run with its own profile so that
// runs do not share or lock one.
func headless(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	args = append([]string{"--headless=new", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + t.TempDir()}, args...)
	cmd := exec.CommandContext(t.Context(), bin, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// The status page as a browser renders it shows the pipeline: the stream and its
// sealing, every table with its version, each consumer's freshness level against its
// SLO, and the scheduler's tasks; its screenshot is a PNG of the window asked for.
func TestStatusPageInChromium(t *testing.T) {
	bin := chromium(t)
	l, srv := servedLake(t, Auth{})
	var st Status
	_, body := get(t, srv.URL+"/v1/status")
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatalf("/v1/status: %v: %s", err, body)
	}

	dom := string(headless(t, bin, "--dump-dom", srv.URL+"/"))
	if got := pageRows(t, dom, "streams"); len(got) != 1 || !strings.HasPrefix(got[0], "events | ") || !strings.Contains(got[0], "| 2026-11-21T05:55:00Z |") {
		t.Errorf("streams: %q, want events sealed through 06:00 less its 5m grace", got)
	}

	tables := pageRows(t, dom, "tables")
	for _, tb := range []struct{ layer, name, root string }{
		{"Silver", "events", silver.Root("events")},
		{"Gold", "daily_metrics", gold.Root("daily_metrics")},
		{"view", "hourly_trends", views.Root("hourly_trends")},
	} {
		snap, err := lake.NewTable(l.store(), tb.root).Latest(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("%s | %s | v%d", tb.layer, tb.name, snap.Version); !slices.Contains(tables, want) {
			t.Errorf("tables: %q lack %q", tables, want)
		}
	}

	consumers := pageRows(t, dom, "consumers")
	if len(consumers) != len(st.Consumers) || len(st.Consumers) == 0 {
		t.Errorf("consumers: %q, want the %d of /v1/status", consumers, len(st.Consumers))
	}
	for _, c := range st.Consumers {
		// Freshness is against the wall clock, which moved between the two reads.
		name, want := c.Name+" | ", fmt.Sprintf(" | %s | %s | %s | ", c.SLO, c.Level, c.Stalest)
		if !slices.ContainsFunc(consumers, func(r string) bool { return strings.HasPrefix(r, name) && strings.Contains(r, want) }) {
			t.Errorf("consumers: %q lack %s with %q", consumers, c.Name, want)
		}
	}
	if n := strings.Count(dom, `<rect class="`); n != len(st.Consumers) {
		t.Errorf("%d freshness bars, want one for each of %d consumers", n, len(st.Consumers))
	}

	tasks := pageRows(t, dom, "tasks")
	if len(tasks) != len(st.Tasks) || len(st.Tasks) == 0 {
		t.Errorf("tasks: %q, want the %d of /v1/status", tasks, len(st.Tasks))
	}
	for _, task := range st.Tasks {
		want := fmt.Sprintf("%s | %s | %d | %d | %s | ", task.Name, task.Spec, task.Runs, task.Failures, task.LastStart.UTC().Format(time.RFC3339))
		if !slices.ContainsFunc(tasks, func(r string) bool { return strings.HasPrefix(r, want) }) {
			t.Errorf("tasks: %q lack %q", tasks, want)
		}
	}

	shot := filepath.Join(t.TempDir(), "status.png")
	if dir := os.Getenv("LAKECTL_SCREENSHOT_DIR"); dir != "" { // to look at it
		shot = filepath.Join(dir, "status.png")
	}
	headless(t, bin, "--screenshot="+shot, "--window-size=1280,900", "--hide-scrollbars", srv.URL+"/")
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot %s: %v", shot, err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 900 {
		t.Errorf("screenshot is %dx%d, want 1280x900", b.Dx(), b.Dy())
	}
}
