package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunGoldErrors checks that each mistake with Gold gets one error line, with the
// file and line of a bad model, and a hint where the user can act.
func TestRunGoldErrors(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	mustLakectl(t, "init", dir)
	for _, f := range []string{"daily_metrics.sql", "user_daily.sql"} {
		if _, err := os.Stat(filepath.Join(dir, "models", f)); err != nil {
			t.Fatalf("init did not write models/%s: %v", f, err)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad")
	mustLakectl(t, "init", bad)
	if err := os.WriteFile(filepath.Join(bad, "models", "leak.sql"), []byte("-- partition: event_date\nSELECT current_date AS event_date, *\nFROM read_csv('/etc/passwd')\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no way to pick days", []string{"run", "gold", "-p", dir}, "choose the days to build in one way"},
		{"bad day", []string{"run", "gold", "--day", "21.11.2026", "-p", dir}, `bad --day: bad day "21.11.2026"`},
		{"unknown model", []string{"run", "gold", "clicks", "--day", "2026-11-21", "-p", dir}, "no model clicks in models/"},
		{"no silver yet", []string{"run", "gold", "--day", "2026-11-21", "-p", dir}, "input silver.events of model daily_metrics has no data yet"},
		{"model reads a file", []string{"run", "gold", "--stale", "-p", bad}, "leak.sql:3: refused: table function read_csv"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := runLakectl(t, tt.args...)
			lines := strings.Split(strings.TrimSpace(res.stderr), "\n")
			if res.exitCode != 1 || !strings.HasPrefix(lines[0], "lakectl: ") || !strings.Contains(lines[0], tt.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and a first line with %q", res.exitCode, res.stderr, tt.want)
			}
			if len(lines) > 2 || (len(lines) == 2 && !strings.HasPrefix(lines[1], "hint: ")) {
				t.Errorf("stderr has more than the error and a hint:\n%s", res.stderr)
			}
		})
	}
}
