// Package e2e runs Bronze ingest end to end through real processes: the lakectl
// binary as `dev kafka`, `gen`, `ingest` (killed with SIGKILL and restarted, or run as
// several replicas) and `verify bronze`, against a local-disk lake and a real S3
// server.
package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lakectl/lakectl/bronze"
	"github.com/lakectl/lakectl/bronze/gen"
	"github.com/lakectl/lakectl/lake"
)

var lakectlBin string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "lakectl-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	lakectlBin = filepath.Join(dir, "lakectl")
	build := exec.Command("go", "build", "-o", lakectlBin, "../../cmd/lakectl")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build lakectl:", err)
		return 1
	}
	return m.Run()
}

// proc is one lakectl process.
type proc struct {
	name   string
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan struct{}
	err    error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func start(t *testing.T, name string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(lakectlBin, args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("%s stderr (tail):\n%s", name, tail(p.stderr.String(), 3000))
		}
	})
	return p
}

func (p *proc) kill() {
	select {
	case <-p.done:
	default:
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
	}
}

// term sends SIGTERM and waits; a graceful shutdown exits 0.
func (p *proc) term(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("%s did not exit after SIGTERM", p.name)
	}
	if p.err != nil {
		t.Fatalf("%s exited with %v after SIGTERM; stderr:\n%s", p.name, p.err, tail(p.stderr.String(), 3000))
	}
}

func (p *proc) wait(t *testing.T) {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(5 * time.Minute):
		t.Fatalf("%s did not finish", p.name)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// devKafka starts `lakectl dev kafka` on a free port and returns its address.
func devKafka(t *testing.T, topic string, partitions int) string {
	t.Helper()
	p := start(t, "dev kafka", nil, "dev", "kafka", "--listen", "127.0.0.1:0", "--topic", fmt.Sprintf("%s:%d", topic, partitions))
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if line, _, ok := strings.Cut(p.stdout.String(), "\n"); ok {
			return strings.TrimSpace(line)
		}
		select {
		case <-p.done:
			t.Fatalf("dev kafka exited: %v\n%s", p.err, p.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatal("dev kafka printed no address")
	return ""
}

// genSummary parses the JSON summary gen printed.
func genSummary(t *testing.T, p *proc) gen.Summary {
	t.Helper()
	p.wait(t)
	if p.err != nil {
		t.Fatalf("gen: %v\n%s", p.err, p.stderr.String())
	}
	var s gen.Summary
	if err := json.Unmarshal([]byte(p.stdout.String()), &s); err != nil {
		t.Fatalf("gen output %q: %v", p.stdout.String(), err)
	}
	return s
}

// verify runs `lakectl verify bronze` and returns its report; it fails the test on
// a non-zero exit.
func verify(t *testing.T, env []string, args ...string) bronze.VerifyReport {
	t.Helper()
	p := start(t, "verify", env, append([]string{"verify", "bronze"}, args...)...)
	p.wait(t)
	var rep bronze.VerifyReport
	if err := json.Unmarshal([]byte(p.stdout.String()), &rep); err != nil {
		t.Fatalf("verify output %q (stderr %s): %v", p.stdout.String(), p.stderr.String(), err)
	}
	if p.err != nil {
		t.Fatalf("verify bronze failed (%v): problems %v", p.err, rep.Problems)
	}
	return rep
}

// ledgerOffsets sums the ledger's next offsets (topics start at offset 0).
func ledgerOffsets(t *testing.T, store lake.Store, stream string) int64 {
	t.Helper()
	snap, err := lake.NewTable(store, bronze.TableRoot(stream)).Latest(t.Context())
	if errors.Is(err, lake.ErrNoTable) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, v := range bronze.ReadLedger(snap).Next {
		n += v
	}
	return n
}

// waitLedger polls the lake until the ledger's offsets add up to want.
func waitLedger(t *testing.T, store lake.Store, stream string, want int64, alive ...*proc) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	var got int64
	for time.Now().Before(deadline) {
		got = ledgerOffsets(t, store, stream)
		if got >= want {
			if got > want {
				t.Fatalf("ledger holds %d offsets, more than the %d sent", got, want)
			}
			return
		}
		for _, p := range alive {
			select {
			case <-p.done:
				t.Fatalf("%s exited early: %v\n%s", p.name, p.err, tail(p.stderr.String(), 3000))
			default:
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("ledger reached %d of %d offsets", got, want)
}
