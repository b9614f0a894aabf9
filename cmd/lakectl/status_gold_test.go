package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lakectl/lakectl/bronze/layout"
)

// TestStatusJSONHasGold: status --json is one object with the Bronze tables under
// "bronze" and, per Gold model, its last complete day and its stale days with why
// under "gold": here a day that Silver has and Gold does not (a gap).
func TestStatusJSONHasGold(t *testing.T) {
	h, err := layout.ParseHour("2026-11-21T08")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "lakectl.yaml"), []byte(gracePipeline), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "models"), 0o755); err != nil {
		t.Fatal(err)
	}
	model := "-- partition: event_date\nSELECT event_date, count(*) AS events FROM silver.fast GROUP BY ALL\n"
	if err := os.WriteFile(filepath.Join(dir, "models", "daily.sql"), []byte(model), 0o644); err != nil {
		t.Fatal(err)
	}
	writeBronzeHour(t, filepath.Join(dir, "lake"), "fast", h, h.End().Add(10*time.Minute))
	mustLakectl(t, "run", "silver", "fast", "--hour", h.String(), "-p", dir)

	var status struct {
		Bronze []struct{ Stream string }
		Gold   []struct {
			Model           string
			CompleteThrough *string `json:"complete_through"`
			Stale           []struct {
				Day     string
				Reasons []struct{ Kind, Input string }
				Why     []string
			}
		}
	}
	out := mustLakectl(t, "status", "--json", "-p", dir)
	if err := json.Unmarshal([]byte(out), &status); err != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	if len(status.Bronze) != 1 || status.Bronze[0].Stream != "fast" {
		t.Errorf("bronze: %+v, want the fast stream", status.Bronze)
	}
	if len(status.Gold) != 1 || status.Gold[0].Model != "daily" || len(status.Gold[0].Stale) != 1 {
		t.Fatalf("gold: %+v, want model daily with one stale day\n%s", status.Gold, out)
	}
	d := status.Gold[0].Stale[0]
	if d.Day != "2026-11-21" || len(d.Reasons) != 1 || d.Reasons[0].Kind != "gap" || d.Reasons[0].Input != "silver/fast" ||
		len(d.Why) != 1 || !strings.HasPrefix(d.Why[0], "gap: silver/fast has data for the day") {
		t.Errorf("stale day: %+v, want 2026-11-21, a gap of silver/fast, and why", d)
	}
	if c := status.Gold[0].CompleteThrough; c == nil || *c >= "2026-11-21" {
		t.Errorf("complete through %v, want a day before 2026-11-21: only hour %s of it was ingested", c, h)
	}
}
