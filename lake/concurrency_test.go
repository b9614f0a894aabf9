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

// childEnv names the environment variables with which TestConcurrentProcessesFS
// re-executes the test binary as one appending process.
const (
	childDirEnv = "LAKECTL_DELTA_CHILD_DIR"
	childIDEnv  = "LAKECTL_DELTA_CHILD_ID"
	childNEnv   = "LAKECTL_DELTA_CHILD_N"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(childDirEnv); dir != "" {
		os.Exit(runChild(dir, os.Getenv(childIDEnv), os.Getenv(childNEnv)))
	}
	code := m.Run()
	if seedRoot != "" {
		os.RemoveAll(seedRoot)
	}
	os.Exit(code)
}

// runChild appends n files, one commit each, as process id.
func runChild(dir, id, nStr string) int {
	n, err := strconv.Atoi(nStr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	store, err := lakefs.New(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	tbl := lake.NewTable(store, deltatest.Root)
	ctx := childContext()
	for i := range n {
		if _, err := deltatest.Append(ctx, tbl, id, i); err != nil {
			fmt.Fprintf(os.Stderr, "child %s append %d: %v\n", id, i, err)
			return 1
		}
	}
	return 0
}

// Several processes append to one table on the file system at once: every commit
// lands exactly once and the versions are contiguous.
func TestConcurrentProcessesFS(t *testing.T) {
	const procs, each = 4, 15
	dir := t.TempDir()
	store, err := lakefs.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := deltatest.Create(t.Context(), lake.NewTable(store, deltatest.Root)); err != nil {
		t.Fatal(err)
	}
	var cmds []*exec.Cmd
	for p := range procs {
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childDirEnv+"="+dir, childIDEnv+"="+fmt.Sprintf("p%d", p), childNEnv+"="+strconv.Itoa(each))
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
}
