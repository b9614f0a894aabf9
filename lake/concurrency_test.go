package lake_test

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/deltatest"
	lakefs "github.com/lakectl/lakectl/lake/fs"
	"github.com/lakectl/lakectl/lake/mem"
	"github.com/lakectl/lakectl/lake/stores"
)

func newFS(t testing.TB) lake.Store {
	s, err := lakefs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConcurrentAppendsMem(t *testing.T) {
	deltatest.ConcurrentAppends(t, func(testing.TB) lake.Store { return mem.New() }, 24)
}

func TestConcurrentAppendsFS(t *testing.T) {
	deltatest.ConcurrentAppends(t, newFS, 24)
}

// The environment variables with which appendFromProcesses re-executes the test binary
// as one appending process. The store URL is anything stores.Open takes (a directory,
// s3://...); S3 credentials travel in the standard AWS_* variables.
const (
	childURLEnv = "LAKECTL_DELTA_CHILD_URL"
	childIDEnv  = "LAKECTL_DELTA_CHILD_ID"
	childNEnv   = "LAKECTL_DELTA_CHILD_N"
)

func TestMain(m *testing.M) {
	if url := os.Getenv(childURLEnv); url != "" {
		os.Exit(runChild(url, os.Getenv(childIDEnv), os.Getenv(childNEnv)))
	}
	os.Exit(m.Run())
}

// runChild appends n files, one commit each, as process id, to the table in the store
// at url, opened as lakectl opens it (retries, and the conditional-write check on S3).
func runChild(url, id, nStr string) int {
	n, err := strconv.Atoi(nStr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	ctx := childContext()
	store, err := stores.Open(ctx, url, stores.Options{})
	if err != nil {
		fmt.Fprintf(os.Stderr, "child %s: %v\n", id, err)
		return 2
	}
	tbl := lake.NewTable(store, deltatest.Root)
	for i := range n {
		if _, err := deltatest.Append(ctx, tbl, id, i); err != nil {
			fmt.Fprintf(os.Stderr, "child %s append %d: %v\n", id, i, err)
			return 1
		}
	}
	return 0
}

// appendFromProcesses creates the table in store, has procs processes append each
// files to it at once through url (the same store seen from another process, with env
// added to the children's environment), and checks that every commit landed exactly
// once at contiguous versions.
func appendFromProcesses(t *testing.T, store lake.Store, url string, env []string, procs, each int) {
	t.Helper()
	if err := deltatest.Create(t.Context(), lake.NewTable(store, deltatest.Root)); err != nil {
		t.Fatal(err)
	}
	var cmds []*exec.Cmd
	for p := range procs {
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), env...)
		cmd.Env = append(cmd.Env, childURLEnv+"="+url, childIDEnv+"="+fmt.Sprintf("p%d", p), childNEnv+"="+strconv.Itoa(each))
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("process %d: %v", i, err)
		}
	}
	want := map[string]int{}
	for p := range procs {
		for i := range each {
			want[deltatest.FileAdd(fmt.Sprintf("p%d", p), i, "x").Path] = 1
		}
	}
	deltatest.CheckLog(t, store, deltatest.Root, want)
	logRaces(t, store, deltatest.Root)
}

// logRaces logs how many commits landed after losing a race (above the version after
// the one they read), which shows that the writers really contended.
func logRaces(t *testing.T, store lake.Store, root string) {
	t.Helper()
	hist, err := lake.NewTable(store, root).History(t.Context())
	if err != nil {
		t.Fatalf("history: %v", err)
	}
	raced := 0
	for _, c := range hist {
		if read, ok := c.Info["readVersion"].(float64); ok && int64(read) < c.Version-1 {
			raced++
		}
	}
	t.Logf("%d of %d commits landed after losing a race", raced, len(hist)-1)
}

// Several processes append to one table on the file system at once: every commit
// lands exactly once and the versions are contiguous.
func TestConcurrentProcessesFS(t *testing.T) {
	dir := t.TempDir()
	store, err := lakefs.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	appendFromProcesses(t, store, dir, nil, 4, 15)
}
