package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"
)

// Task is one recurring job of the scheduler.
type Task struct {
	// Name identifies the task in status and metrics: "silver/events", "gold",
	// "views/hourly_trends". Names come from the pipeline, never from requests, which
	// bounds the metrics' label values.
	Name string
	// Spec is when it runs: "@every 5m" (Every). Nothing else is accepted.
	Spec string
	// Run does the work once; rows is what it wrote, for the metrics. It must stop
	// before its commit once ctx ends.
	Run func(ctx context.Context) (rows int64, err error)
}

// Every is the spec of a task run each d.
func Every(d time.Duration) string { return "@every " + d.String() }

// SpecError is a task spec the scheduler refuses.
type SpecError struct {
	Task, Spec, Why string
}

func (e *SpecError) Error() string {
	return fmt.Sprintf("task %s: spec %q: %s", e.Task, e.Spec, e.Why)
}

// checkSpec accepts "@every D" alone: robfig/cron is unmaintained, and its TZ= and
// CRON_TZ= prefixes have known panics.
func checkSpec(t Task) (cron.Schedule, error) {
	s := strings.TrimSpace(t.Spec)
	if strings.HasPrefix(s, "TZ=") || strings.HasPrefix(s, "CRON_TZ=") {
		return nil, &SpecError{Task: t.Name, Spec: t.Spec, Why: "time zone specs are refused (robfig/cron has known panics with them); use @every"}
	}
	d, ok := strings.CutPrefix(s, "@every ")
	if !ok {
		return nil, &SpecError{Task: t.Name, Spec: t.Spec, Why: "only @every DURATION is accepted"}
	}
	every, err := time.ParseDuration(strings.TrimSpace(d))
	if err != nil || every < time.Second {
		return nil, &SpecError{Task: t.Name, Spec: t.Spec, Why: "want a duration of a second or more"}
	}
	return cron.Every(every), nil
}

// SchedulerConfig sets up a Scheduler. Zero values take the documented defaults.
type SchedulerConfig struct {
	Tasks []Task
	// Backoff is the wait before a failed run is tried again; it doubles with each
	// failure in a row up to MaxBackoff. Defaults: 5s and 5m.
	Backoff, MaxBackoff time.Duration
	// Attempts is how many times one scheduled run tries before it waits for the next
	// tick. Default: 3.
	Attempts int
	// Logger receives task runs and failures. Default: discard.
	Logger *slog.Logger
	// Registerer gets the task metrics. Default: none.
	Registerer prometheus.Registerer
}

// TaskStatus is what the scheduler knows of a task.
type TaskStatus struct {
	Name        string        `json:"name"`
	Spec        string        `json:"spec"`
	Running     bool          `json:"running"`
	Runs        int64         `json:"runs"`
	Failures    int64         `json:"failures"`
	LastStart   time.Time     `json:"last_start,omitzero"`
	LastEnd     time.Time     `json:"last_end,omitzero"`
	LastElapsed time.Duration `json:"-"`
	LastSeconds float64       `json:"last_duration_seconds"`
	LastRows    int64         `json:"last_rows"`
	// LastError is the last failure's message, kept until a run succeeds.
	LastError     string    `json:"last_error,omitempty"`
	LastFailureAt time.Time `json:"last_failure_at,omitzero"`
}

type task struct {
	Task
	schedule cron.Schedule
	running  atomic.Bool

	mu     sync.Mutex
	status TaskStatus
}

// Scheduler runs tasks on their specs; see the package doc.
type Scheduler struct {
	cfg     SchedulerConfig
	log     *slog.Logger
	tasks   []*task
	metrics *schedulerMetrics
	wg      sync.WaitGroup
	// stopping is closed when Run's context ends: no retry starts after it, and a
	// task waiting to retry stops waiting.
	stopping chan struct{}
}

// NewScheduler checks every task's spec.
func NewScheduler(cfg SchedulerConfig) (*Scheduler, error) {
	if cfg.Backoff <= 0 {
		cfg.Backoff = 5 * time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 5 * time.Minute
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = 3
	}
	s := &Scheduler{cfg: cfg, log: cfg.Logger, metrics: newSchedulerMetrics(cfg.Registerer), stopping: make(chan struct{})}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("component", "serve")
	seen := map[string]bool{}
	for _, t := range cfg.Tasks {
		if seen[t.Name] {
			return nil, fmt.Errorf("task %s: named twice", t.Name)
		}
		seen[t.Name] = true
		sched, err := checkSpec(t)
		if err != nil {
			return nil, err
		}
		s.tasks = append(s.tasks, &task{Task: t, schedule: sched, status: TaskStatus{Name: t.Name, Spec: t.Spec}})
	}
	return s, nil
}

// Run runs every task once at once, then on its spec, until ctx ends. Then no task
// starts any more, nor a retry; running ones get stopBound to finish, after which their context
// ends, so that they stop before their commit. Run returns when all have returned.
func (s *Scheduler) Run(ctx context.Context, stopBound time.Duration) error {
	// Tasks get a context of their own: the end of ctx stops scheduling, and only the
	// end of the bound stops the work.
	jobCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	// fire's own guard keeps a task from overlapping itself, the first run (started
	// here, not by cron) included.
	c := cron.New()
	for _, t := range s.tasks {
		c.Schedule(t.schedule, cron.FuncJob(func() { s.fire(jobCtx, t) }))
		s.wg.Go(func() { s.fire(jobCtx, t) })
	}
	c.Start()
	<-ctx.Done()
	close(s.stopping)
	cronDone := c.Stop() // ends when the runs that cron started have returned
	done := make(chan struct{})
	go func() { <-cronDone.Done(); s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(stopBound):
		s.log.Warn("tasks still running at the stop bound: stopping them before their commit", "bound", stopBound)
		cancel()
		<-done
	}
	return nil
}

// RunOnce runs the task called name now, as a tick would (not when it is running).
func (s *Scheduler) RunOnce(ctx context.Context, name string) error {
	for _, t := range s.tasks {
		if t.Name == name {
			s.fire(ctx, t)
			return nil
		}
	}
	return fmt.Errorf("no task %q", name)
}

// fire runs t unless it is running already, trying again with backoff on failure.
func (s *Scheduler) fire(ctx context.Context, t *task) {
	if !t.running.CompareAndSwap(false, true) {
		return // never overlaps itself
	}
	defer t.running.Store(false)
	wait := s.cfg.Backoff
	for attempt := 1; attempt <= s.cfg.Attempts && ctx.Err() == nil; attempt++ {
		if s.runAttempt(ctx, t) {
			return
		}
		if attempt == s.cfg.Attempts {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-s.stopping:
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, s.cfg.MaxBackoff)
	}
}

// runAttempt runs t once and records it; it reports success.
func (s *Scheduler) runAttempt(ctx context.Context, t *task) bool {
	start := time.Now()
	t.mu.Lock()
	t.status.Running, t.status.LastStart = true, start
	t.mu.Unlock()
	rows, err := t.Run(ctx)
	end := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	st := &t.status
	st.Running, st.LastEnd, st.LastElapsed, st.LastRows = false, end, end.Sub(start), rows
	st.LastSeconds = st.LastElapsed.Seconds()
	st.Runs++
	s.metrics.observe(t.Name, end.Sub(start), rows, err)
	if err != nil {
		st.Failures++
		st.LastError, st.LastFailureAt = err.Error(), end
		if !errors.Is(err, context.Canceled) {
			s.log.Error("task failed", "task", t.Name, "err", err)
		}
		return false
	}
	st.LastError = ""
	s.log.Info("task done", "task", t.Name, "rows", rows, "duration", end.Sub(start).Round(time.Millisecond))
	return true
}

// Status is every task's status, in the order given.
func (s *Scheduler) Status() []TaskStatus {
	var out []TaskStatus
	for _, t := range s.tasks {
		t.mu.Lock()
		out = append(out, t.status)
		t.mu.Unlock()
	}
	return out
}
