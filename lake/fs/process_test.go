package fs_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/fs"
)

// Environment of the helper process that TestPutIfAbsentAcrossProcesses starts.
const (
	envHelperDir = "LAKECTL_FS_TEST_HELPER_DIR"
	envHelperID  = "LAKECTL_FS_TEST_HELPER_ID"
	raceKeys     = 50
	raceProcs    = 4
)

// TestPutIfAbsentAcrossProcesses races separate processes, as separate lakectl jobs on
// one machine race for Delta versions: for every key exactly one process wins, and the
// file holds that winner's bytes.
func TestPutIfAbsentAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	procs := make([]*exec.Cmd, raceProcs)
	outs := make([]*bytes.Buffer, raceProcs)
	for i := range procs {
		outs[i] = new(bytes.Buffer)
		procs[i] = exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
		procs[i].Env = append(os.Environ(), envHelperDir+"="+dir, fmt.Sprintf("%s=%d", envHelperID, i))
		procs[i].Stdout, procs[i].Stderr = outs[i], outs[i]
		if err := procs[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	winners := map[string][]int{}
	for i, p := range procs {
		if err := p.Wait(); err != nil {
			t.Fatalf("helper %d: %v\n%s", i, err, outs[i])
		}
		sc := bufio.NewScanner(outs[i])
		for sc.Scan() {
			if key, ok := strings.CutPrefix(sc.Text(), "won "); ok {
				winners[key] = append(winners[key], i)
			}
		}
	}
	s, err := fs.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	for k := range raceKeys {
		key := raceKey(k)
		w := winners[key]
		if len(w) != 1 {
			t.Errorf("%s: winners %v, want exactly one", key, w)
			continue
		}
		got, err := lake.ReadAll(t.Context(), s, key)
		if err != nil {
			t.Fatal(err)
		}
		if want := helperBody(w[0], k); string(got) != want {
			t.Errorf("%s holds %q, want winner %d's %q", key, got, w[0], want)
		}
	}
}

// TestHelperProcess is one racer of TestPutIfAbsentAcrossProcesses; on its own it
// does nothing.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv(envHelperDir)
	if dir == "" {
		return
	}
	id := os.Getenv(envHelperID)
	var n int
	fmt.Sscan(id, &n)
	s, err := fs.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	for k := range raceKeys {
		err := s.PutIfAbsent(t.Context(), raceKey(k), []byte(helperBody(n, k)))
		switch {
		case err == nil:
			fmt.Printf("won %s\n", raceKey(k))
		case !errors.Is(err, lake.ErrExists):
			t.Fatalf("PutIfAbsent(%s): %v", raceKey(k), err)
		}
	}
}

func raceKey(k int) string          { return fmt.Sprintf("t/_delta_log/%020d.json", k) }
func helperBody(proc, k int) string { return fmt.Sprintf(`{"proc":%d,"version":%d}`, proc, k) }
