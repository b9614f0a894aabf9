//go:build !linux

package s3server

import "os/exec"

// setProcAttr does nothing here: only Linux can tie the server's life to the test's.
func setProcAttr(cmd *exec.Cmd) {}
