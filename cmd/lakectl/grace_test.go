package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lakectl/lakectl/bronze"
	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/internal/bronzefixture"
)

// gracePipeline declares two streams whose graces differ, each with a Silver table.
const gracePipeline = `store: lake
streams:
  fast: {grace: 5m}
  slow: {grace: 30m}
silver:
  fast:
    source: fast
    fields:
      event_id: {type: string, required: true}
      ts:       {type: timestamp, required: true}
    key: [event_id]
    event_time: ts
  slow:
    source: slow
    fields:
      event_id: {type: string, required: true}
      ts:       {type: timestamp, required: true}
    key: [event_id]
    event_time: ts
`

// TestCommandsAgreeOnSealing checks that status, compact bronze and run silver seal
// an hour of each stream by that stream's own grace (the rule of the README and of
// streams.S.grace), and that --grace's variable replaces it for every stream in all
// three. Both streams' marks stand 10 minutes past the end of hour H.
func TestCommandsAgreeOnSealing(t *testing.T) {
	h, err := layout.ParseHour("2026-11-21T08")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		env    []string
		sealed map[string]bool
	}{
		{"each stream's grace", nil, map[string]bool{"fast": true, "slow": false}},
		{"LAKECTL_GRACE for every stream", []string{"LAKECTL_GRACE=45m"}, map[string]bool{"fast": false, "slow": false}},
		{"LAKECTL_GRACE shorter than the file's", []string{"LAKECTL_GRACE=1m"}, map[string]bool{"fast": true, "slow": true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "lakectl.yaml"), []byte(gracePipeline), 0o644); err != nil {
				t.Fatal(err)
			}
			for stream := range tc.sealed {
				writeBronzeHour(t, filepath.Join(dir, "lake"), stream, h, h.End().Add(10*time.Minute))
			}
			env := append([]string{"LAKECTL_PIPELINE=" + dir}, tc.env...)

			var status struct{ Bronze []bronze.StreamStatus }
			if err := json.Unmarshal([]byte(mustLakectlEnv(t, env, "status", "--json")), &status); err != nil {
				t.Fatal(err)
			}
			for _, st := range status.Bronze {
				if got := st.LastSealed >= h.String(); got != tc.sealed[st.Stream] {
					t.Errorf("status: %s last sealed hour %q: hour %s sealed = %v, want %v", st.Stream, st.LastSealed, h, got, tc.sealed[st.Stream])
				}
			}
			for stream, want := range tc.sealed {
				res := runLakectlEnv(t, env, "compact", "bronze", "--stream", stream, "--hour", h.String())
				if got := res.exitCode == 0; got != want || (!got && !strings.Contains(res.stderr, "not sealed")) {
					t.Errorf("compact bronze %s: sealed = %v, want %v (exit %d, %s)", stream, got, want, res.exitCode, res.stderr)
				}
				res = runLakectlEnv(t, env, "run", "silver", stream, "--pending", "--json")
				if got := strings.Contains(res.stdout, `"hour":"`+h.String()+`"`); res.exitCode != 0 || got != want {
					t.Errorf("run silver %s --pending: processed %s = %v, want %v (exit %d)\nstdout: %s\nstderr: %s", stream, h, got, want, res.exitCode, res.stdout, res.stderr)
				}
				res = runLakectlEnv(t, env, "run", "silver", stream, "--hour", h.String())
				if got := res.exitCode == 0; got != want || (!got && !strings.Contains(res.stderr, "not sealed")) {
					t.Errorf("run silver %s --hour: sealed = %v, want %v (exit %d, %s)", stream, got, want, res.exitCode, res.stderr)
				}
			}
		})
	}
}

// writeBronzeHour commits one Bronze file of one event in hour h to bronze/stream of
// the file lake at dir, with the mark of its one Kafka partition at mark.
func writeBronzeHour(t *testing.T, dir, stream string, h layout.Hour, mark time.Time) {
	t.Helper()
	at := h.Time().Add(time.Minute)
	commitBronze(t, dir, stream, []bronzefixture.Record{{Payload: []byte(`{"event_id":"e1","ts":"` + at.Format(time.RFC3339) + `"}`), Ingested: at}}, mark)
}
