package s3server

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
)

// Outages for fault-injection tests: a frozen server keeps its port and its open
// connections but answers nothing (as a hung or partitioned server does); a restarted
// one drops every connection and comes back on the same address with the same data.
//
//	srv.Freeze(t)
//	time.Sleep(3 * time.Second) // clients block, then retry
//	srv.Thaw(t)
//	srv.Restart(t) // SIGKILL, then the same command again

// Freeze stops the server with SIGSTOP. Thaw resumes it; the test's cleanup kills a
// server that is still frozen.
func (s *Server) Freeze(t testing.TB) {
	t.Helper()
	s.signal(t, syscall.SIGSTOP)
	s.waitStopped(t)
}

// waitStopped returns once the kernel reports the server stopped: kill(2) only queues
// SIGSTOP, and on a busy machine the server can still answer a request in between.
// Where /proc is missing it returns at once.
func (s *Server) waitStopped(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	pid := s.proc.Pid
	s.mu.Unlock()
	deadline := time.Now().Add(startTimeout)
	for {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return
		}
		// The state is the field after the command name, which is in parentheses.
		if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) && stat[i+2] == 'T' {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("s3server: %s did not stop within %s of SIGSTOP", s.Kind, startTimeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Thaw resumes a frozen server with SIGCONT.
func (s *Server) Thaw(t testing.TB) {
	t.Helper()
	s.signal(t, syscall.SIGCONT)
}

// Restart kills the server with SIGKILL (no shutdown, as in a crash) and starts it
// again on the same address and data directory, returning once it is ready. The
// bucket and its objects survive, as on a real server's disk.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.kill()
	if err := s.launch(); err != nil {
		t.Fatalf("s3server: %s did not restart: %v\n%s", s.Kind, err, tail(s.logPath))
	}
	if err := s.waitServing(t.Context()); err != nil {
		t.Fatalf("s3server: %s restarted but does not serve its bucket: %v\n%s", s.Kind, err, tail(s.logPath))
	}
}

// waitServing returns once the bucket answers a signed request: a restarted MinIO
// reports ready, then answers 503 "Server not initialized yet" for a moment.
func (s *Server) waitServing(ctx context.Context) error {
	return s.whileInitialising(ctx, func(c *minio.Client) error {
		_, err := c.BucketExists(ctx, s.Bucket)
		return err
	})
}

func (s *Server) signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		t.Fatalf("s3server: %s to %s: not running", sig, s.Kind)
	}
	if err := s.proc.Signal(sig); err != nil {
		t.Fatalf("s3server: %s to %s: %v", sig, s.Kind, err)
	}
}

// launch starts the server's command and waits until it is ready. The log is
// appended to, so a restarted server's log keeps what the first one said.
func (s *Server) launch() error {
	log, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close() // the child keeps its own descriptor
	cmd := exec.Command(s.argv[0], s.argv[1:]...)
	cmd.Env = s.env
	cmd.Stdout, cmd.Stderr = log, log
	setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.Kind, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	s.mu.Lock()
	s.proc, s.exited = cmd.Process, exited
	s.mu.Unlock()
	return s.waitReady(exited)
}

// kill stops the current process, frozen or not, and waits for it to exit.
func (s *Server) kill() {
	s.mu.Lock()
	proc, exited := s.proc, s.exited
	s.proc, s.exited = nil, nil
	s.mu.Unlock()
	if proc == nil {
		return
	}
	proc.Kill()
	<-exited
}
