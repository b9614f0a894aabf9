package s3server

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
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
