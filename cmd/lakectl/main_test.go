package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// lakectlBin is the lakectl binary that TestMain builds once, so that tests run the
// commands the way a user does: a process, its output and its exit status.
var lakectlBin string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "lakectl-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "make temp dir for the lakectl binary:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	lakectlBin = filepath.Join(dir, "lakectl")
	build := exec.Command("go", "build", "-o", lakectlBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build lakectl:", err)
		return 1
	}
	return m.Run()
}

// cliResult is what one run of the binary left behind.
type cliResult struct {
	stdout, stderr string
	exitCode       int
}

// runLakectl runs the built binary with args; it fails the test only if the process
// could not be run at all, so tests can assert on non-zero exits.
func runLakectl(t *testing.T, args ...string) cliResult {
	t.Helper()
	return runLakectlEnv(t, nil, args...)
}

// runLakectlEnv is runLakectl with variables ("NAME=value") added to the environment.
func runLakectlEnv(t *testing.T, env []string, args ...string) cliResult {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), lakectlBin, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := cliResult{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.exitCode = exit.ExitCode()
	case err != nil:
		t.Fatalf("run lakectl %q: %v", args, err)
	}
	return res
}

// mustLakectl runs the binary and fails the test unless it exits 0.
func mustLakectl(t *testing.T, args ...string) string {
	t.Helper()
	return mustLakectlEnv(t, nil, args...)
}

// mustLakectlEnv is mustLakectl with variables ("NAME=value") added to the environment.
func mustLakectlEnv(t *testing.T, env []string, args ...string) string {
	t.Helper()
	res := runLakectlEnv(t, env, args...)
	if res.exitCode != 0 {
		t.Fatalf("lakectl %q: exit %d\nstderr: %s", args, res.exitCode, res.stderr)
	}
	return res.stdout
}

// sharedTestdata finds the project's shared/testdata by walking up from the working
// directory (in CI the repository is cloned with shared/ beside it). Without it the
// test fails in CI and is skipped elsewhere.
func sharedTestdata(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		candidate := filepath.Join(dir, "shared", "testdata")
		if st, err := os.Stat(candidate); err == nil && st.IsDir() {
			return candidate
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("shared/testdata not found above the working directory")
	}
	t.Skip("shared/testdata not found above the working directory; clone shared/ beside the repository to run this test")
	return ""
}
