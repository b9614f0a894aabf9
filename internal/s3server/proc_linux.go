package s3server

import (
	"os/exec"
	"syscall"
)

// setProcAttr makes the kernel kill the server if the test process dies first (a
// timeout panic, kill -9), so no server outlives its test.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
