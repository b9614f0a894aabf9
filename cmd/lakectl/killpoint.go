package main

import (
	"os"
	"strconv"
	"strings"
	"sync/atomic"
)

// killHook serves crash tests: when LAKECTL_TEST_KILL_AT is "POINT" or "POINT:N" it
// returns a silver.Config.Hook that kills this process with SIGKILL the Nth time
// (default the first) a run reaches POINT (silver.HookParsed, HookQuarantineCommitted,
// HookFilesWritten, HookCommitted). A real kill -9, not an exit: no deferred cleanup
// runs, exactly as when a machine dies. Unset: nil (no hook).
func killHook() func(string) {
	spec := os.Getenv("LAKECTL_TEST_KILL_AT")
	if spec == "" {
		return nil
	}
	point, nth, _ := strings.Cut(spec, ":")
	n, err := strconv.Atoi(nth)
	if err != nil || n < 1 {
		n = 1
	}
	var seen atomic.Int64
	return func(at string) {
		if at == point && seen.Add(1) == int64(n) {
			if self, err := os.FindProcess(os.Getpid()); err == nil {
				self.Kill() // SIGKILL on Unix
			}
			select {} // the signal is on its way; never run past the point
		}
	}
}
