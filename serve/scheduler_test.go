package serve

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestSpecs(t *testing.T) {
	noop := func(context.Context) (int64, error) { return 0, nil }
	for _, tc := range []struct {
		spec string
		ok   bool
	}{
		{"@every 5m", true},
		{Every(90 * time.Second), true},
		{"TZ=Europe/Berlin @every 5m", false},
		{"CRON_TZ=UTC 0 * * * *", false},
		{"0 * * * *", false},
		{"@hourly", false},
		{"@every 10ms", false},
		{"@every soon", false},
	} {
		_, err := NewScheduler(SchedulerConfig{Tasks: []Task{{Name: "t", Spec: tc.spec, Run: noop}}})
		var se *SpecError
		if tc.ok && err != nil {
			t.Errorf("%q: %v, want accepted", tc.spec, err)
		}
		if !tc.ok && !errors.As(err, &se) {
			t.Errorf("%q: %v, want a *SpecError", tc.spec, err)
		}
	}
}

// A task started while it runs does not run a second time at once.
func TestTaskNeverOverlaps(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	running, most := 0, 0
	s, err := NewScheduler(SchedulerConfig{Tasks: []Task{{Name: "slow", Spec: "@every 1h", Run: func(context.Context) (int64, error) {
		mu.Lock()
		running++
		most = max(most, running)
		mu.Unlock()
		close(started)
		<-release
		mu.Lock()
		running--
		mu.Unlock()
		return 0, nil
	}}}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { s.RunOnce(t.Context(), "slow") })
	<-started
	s.RunOnce(t.Context(), "slow") // returns at once: the task is running
	if st := s.Status()[0]; !st.Running {
		t.Errorf("status while running: %+v", st)
	}
	close(release)
	wg.Wait()
	if st := s.Status()[0]; st.Runs != 1 || most != 1 {
		t.Errorf("runs %d, most at once %d; want 1 and 1", st.Runs, most)
	}
}

// A failing task is tried again, and each failure shows in status and metrics; a
// success clears the last error but keeps the count.
func TestFailureRetriedAndReported(t *testing.T) {
	reg := prometheus.NewRegistry()
	calls := 0
	s, err := NewScheduler(SchedulerConfig{Backoff: time.Millisecond, Attempts: 3, Registerer: reg, Tasks: []Task{{Name: "flaky", Spec: "@every 1h",
		Run: func(context.Context) (int64, error) {
			if calls++; calls < 3 {
				return 0, errors.New("store unreachable")
			}
			return 7, nil
		}}}})
	if err != nil {
		t.Fatal(err)
	}
	s.RunOnce(t.Context(), "flaky")
	st := s.Status()[0]
	if st.Runs != 3 || st.Failures != 2 || st.LastError != "" || st.LastRows != 7 || st.LastFailureAt.IsZero() {
		t.Errorf("status %+v; want 3 runs, 2 failures, no last error, 7 rows", st)
	}
	if got := metricValue(t, reg, "lakectl_serve_task_failures_total", "flaky"); got != 2 {
		t.Errorf("failures metric %v, want 2", got)
	}
	if got := metricValue(t, reg, "lakectl_serve_task_rows_total", "flaky"); got != 7 {
		t.Errorf("rows metric %v, want 7", got)
	}

	// Every attempt failing: the last error stays for status to show.
	s2, _ := NewScheduler(SchedulerConfig{Backoff: time.Millisecond, Attempts: 2, Tasks: []Task{{Name: "down", Spec: "@every 1h",
		Run: func(context.Context) (int64, error) { return 0, errors.New("store unreachable") }}}})
	s2.RunOnce(t.Context(), "down")
	if st := s2.Status()[0]; st.Failures != 2 || st.LastError != "store unreachable" {
		t.Errorf("status %+v; want 2 failures and the last error", st)
	}
}

// On stop, a running task that finishes within the bound keeps its context; one
// that does not gets its context ended, so it stops before its commit.
func TestStopBound(t *testing.T) {
	for _, tc := range []struct {
		name      string
		bound     time.Duration
		finishing bool // the task finishes on its own once the stop began
	}{
		{"finishes within the bound", time.Hour, true},
		{"stopped at the bound", time.Millisecond, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			started, stopping := make(chan struct{}), make(chan struct{})
			var ctxErr error
			s, err := NewScheduler(SchedulerConfig{Attempts: 1, Tasks: []Task{{Name: "job", Spec: "@every 1h", Run: func(ctx context.Context) (int64, error) {
				close(started)
				<-stopping
				if !tc.finishing {
					<-ctx.Done()
				}
				ctxErr = ctx.Err()
				return 0, ctxErr
			}}}})
			if err != nil {
				t.Fatal(err)
			}
			ctx, stop := context.WithCancel(t.Context())
			done := make(chan struct{})
			go func() { s.Run(ctx, tc.bound); close(done) }()
			<-started
			stop()
			close(stopping)
			<-done
			if tc.finishing && ctxErr != nil {
				t.Errorf("task's context ended (%v) though it finished within the bound", ctxErr)
			}
			if !tc.finishing && !errors.Is(ctxErr, context.Canceled) {
				t.Errorf("task's context: %v, want canceled at the bound", ctxErr)
			}
		})
	}
}

// metricValue is the value of the counter or gauge name whose one label is value.
func metricValue(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) == 1 && m.GetLabel()[0].GetValue() == label {
				if c := m.GetCounter(); c != nil {
					return c.GetValue()
				}
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("no metric %s{%s}", name, label)
	return 0
}

// A task waiting to retry a failure stops waiting when the scheduler stops, however
// long its backoff.
func TestStopEndsBackoff(t *testing.T) {
	failed := make(chan struct{}, 1)
	s, err := NewScheduler(SchedulerConfig{Backoff: time.Hour, Attempts: 5, Tasks: []Task{{Name: "down", Spec: "@every 1h",
		Run: func(context.Context) (int64, error) {
			failed <- struct{}{}
			return 0, errors.New("store unreachable")
		}}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { s.Run(ctx, time.Hour); close(done) }()
	<-failed
	stop()
	<-done // with the backoff and the bound an hour each, only the stop ends the wait
	if st := s.Status()[0]; st.Runs != 1 {
		t.Errorf("runs %d, want 1: no retry after the stop", st.Runs)
	}
}
