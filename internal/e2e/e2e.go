// Package e2e runs the lakectl binary as real processes for end-to-end tests: it
// builds the binary once, starts commands with their own environment, captures their
// output, and stops them with SIGTERM or SIGKILL. The helpers for the processes that
// most tests need (dev kafka, gen, query) sit on top.
//
//	var lakectl e2e.Binary
//
//	func TestMain(m *testing.M) { os.Exit(e2e.Main(m, &lakectl)) }
//
//	func TestX(t *testing.T) {
//		broker := lakectl.DevKafka(t, "events", 4)
//		ing := lakectl.Start(t, "ingest", nil, "ingest", "--lake", dir, "--brokers", broker)
//		defer ing.Term(t)
//		out := lakectl.Run(t, nil, "status", "--lake", dir)
//	}
package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Binary is the path of a built lakectl binary.
type Binary string

// Build compiles cmd/lakectl into dir and returns its path. It works from any
// package of the module (go build resolves the import path).
func Build(dir string) (Binary, error) {
	bin := filepath.Join(dir, "lakectl")
	build := exec.Command("go", "build", "-o", bin, "github.com/lakectl/lakectl/cmd/lakectl")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("build lakectl: %w", err)
	}
	return Binary(bin), nil
}

// Main is a TestMain body: it builds the binary into a temporary directory, stores
// its path in *bin, runs the tests and removes the directory. It returns the exit
// code for os.Exit.
func Main(m *testing.M, bin *Binary) int {
	dir, err := os.MkdirTemp("", "lakectl-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if *bin, err = Build(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// Proc is one running (or finished) lakectl process.
type Proc struct {
	Name   string
	Cmd    *exec.Cmd
	Stdout *Buffer
	Stderr *Buffer
	done   chan struct{}
	err    error // set before done is closed
}

// Buffer is a bytes.Buffer that a process writes while the test reads it.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Start runs `lakectl args...` with env added to the test's environment. The process
// is killed when the test ends, and its stderr tail is logged if the test failed.
func (b Binary) Start(t testing.TB, name string, env []string, args ...string) *Proc {
	t.Helper()
	p := &Proc{Name: name, Stdout: &Buffer{}, Stderr: &Buffer{}, done: make(chan struct{})}
	p.Cmd = exec.Command(string(b), args...)
	p.Cmd.Env = append(os.Environ(), env...)
	p.Cmd.Stdout, p.Cmd.Stderr = p.Stdout, p.Stderr
	if err := p.Cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { p.err = p.Cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("%s stderr (tail):\n%s", name, Tail(p.Stderr.String(), 3000))
		}
	})
	return p
}

// Run runs `lakectl args...` to the end and returns its stdout; a non-zero exit
// fails the test.
func (b Binary) Run(t testing.TB, env []string, args ...string) string {
	t.Helper()
	p := b.Start(t, fmt.Sprint(args), env, args...)
	p.Wait(t)
	if p.Err() != nil {
		t.Fatalf("lakectl %v: %v\nstderr:\n%s", args, p.Err(), Tail(p.Stderr.String(), 3000))
	}
	return p.Stdout.String()
}

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Err is the process's exit error (nil for exit 0); valid once Done is closed.
func (p *Proc) Err() error {
	<-p.done
	return p.err
}

// Kill sends SIGKILL, unless the process has exited, and waits for it.
func (p *Proc) Kill() {
	if !p.Exited() {
		p.Cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
	}
}

// Term sends SIGTERM and waits; a graceful shutdown must exit 0.
func (p *Proc) Term(t testing.TB) {
	t.Helper()
	p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("%s did not exit after SIGTERM", p.Name)
	}
	if p.err != nil {
		t.Fatalf("%s exited with %v after SIGTERM; stderr:\n%s", p.Name, p.err, Tail(p.Stderr.String(), 3000))
	}
}

// Wait waits for the process to exit on its own (at most 5 minutes).
func (p *Proc) Wait(t testing.TB) {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(5 * time.Minute):
		t.Fatalf("%s did not finish", p.Name)
	}
}

// Tail returns the last n bytes of s.
func Tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
