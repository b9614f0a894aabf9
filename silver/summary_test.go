package silver

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestSummaryJSON: `run silver --json` is read by schedulers, so its keys are
// snake_case like every other lakectl JSON output and the duration is in seconds; it
// reads back to the same summary.
func TestSummaryJSON(t *testing.T) {
	in := Summary{Table: "events", Hour: hourAt("2026-11-21T08"), RowsIn: 10, Valid: 9, Quarantined: 1,
		Partitions: []Partition{{"2026-11-21", 8}}, Version: 3, Duration: Seconds(1500 * time.Millisecond)}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"table":"events"`, `"hour":"2026-11-21T08"`, `"rows_in":10`, `"quarantined":1`,
		`"partitions":[{"event_date":"2026-11-21","event_hour":8}]`, `"duration_seconds":1.5`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("summary JSON %s lacks %s", b, want)
		}
	}
	var out Summary
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.Duration != in.Duration || out.RowsIn != in.RowsIn || out.Hour != in.Hour {
		t.Errorf("round trip: got %+v, want %+v", out, in)
	}
}
