package serve

import (
	"testing"
)

// Before Silver has written anything, a view's task waits without failing: its input
// will come.
func TestViewWaitsForItsInput(t *testing.T) {
	l := newTestLake(t)
	s := newTestScheduler(t, l.replica())
	for _, st := range s.Status() {
		if err := s.RunOnce(t.Context(), st.Name); err != nil {
			t.Fatal(err)
		}
	}
	for _, st := range s.Status() {
		if st.Runs != 1 || st.Failures != 0 {
			t.Errorf("task %s on an empty lake: runs %d, failures %d (%s); want 1 run, no failure", st.Name, st.Runs, st.Failures, st.LastError)
		}
	}
}
