// Package s3server starts real S3 servers (versitygw, MinIO) on loopback for tests.
// Each Start runs a fresh server as a child process with its own data directory, a free
// port and fixed test credentials, creates a bucket, and stops the server when the test
// ends.
//
//	srv := s3server.Start(t, "versitygw")
//	store := srv.Store(t) // an *s3.Store under a prefix of its own
//
// The binaries come from `make deps`. Where one is missing the test is skipped with a
// message, or fails when CI=true, so CI cannot pass without the servers.
package s3server

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lakectl/lakectl/internal/wait"
	"github.com/lakectl/lakectl/lake/s3"
	"github.com/minio/minio-go/v7"
)

// Kinds of server Start knows.
const (
	VersityGW = "versitygw"
	MinIO     = "minio"
)

// Fixed test credentials; MinIO wants a secret of at least 8 characters.
const (
	testAccessKey = "lakectl-test"
	testSecretKey = "lakectl-test-secret"
	testBucket    = "lake"
)

// startTimeout bounds the wait for a server to answer; it is a readiness deadline, not
// an assertion on speed.
const startTimeout = 60 * time.Second

// Server is a running S3 server.
type Server struct {
	Kind      string
	Endpoint  string // "http://127.0.0.1:PORT"
	AccessKey string
	SecretKey string
	Bucket    string

	// How to run the server again on the same address and data (see Restart), and
	// the process that runs now.
	argv    []string
	env     []string
	logPath string
	mu      sync.Mutex
	proc    *os.Process
	exited  chan error
}

// Start starts a server of kind (VersityGW or MinIO) and stops it when t ends.
func Start(t testing.TB, kind string) *Server {
	t.Helper()
	bin := findBinary(kind)
	if bin == "" {
		msg := fmt.Sprintf("%s not found on PATH or in $(go env GOPATH)/bin; `make deps` installs it", kind)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	cmd := exec.Command(bin)
	cmd.Env = os.Environ()
	switch kind {
	case VersityGW:
		cmd.Args = append(cmd.Args, "--access", testAccessKey, "--secret", testSecretKey,
			"--port", addr, "--quiet", "posix", data)
	case MinIO:
		cmd.Args = append(cmd.Args, "server", data, "--address", addr,
			"--console-address", freeAddr(t), "--certs-dir", filepath.Join(dir, "certs"), "--quiet")
		cmd.Env = append(cmd.Env, "MINIO_ROOT_USER="+testAccessKey, "MINIO_ROOT_PASSWORD="+testSecretKey,
			"MINIO_BROWSER=off", "MINIO_UPDATE=off", "MINIO_CI_CD=on")
	default:
		t.Fatalf("s3server: unknown kind %q (want %q or %q)", kind, VersityGW, MinIO)
	}
	s := &Server{Kind: kind, Endpoint: "http://" + addr, AccessKey: testAccessKey, SecretKey: testSecretKey, Bucket: testBucket,
		argv: cmd.Args, env: cmd.Env, logPath: filepath.Join(dir, kind+".log")}
	t.Cleanup(s.kill)
	if err := s.launch(); err != nil {
		t.Fatalf("s3server: %s did not start: %v\n%s", kind, err, tail(s.logPath))
	}
	if err := s.makeBucket(t.Context()); err != nil {
		t.Fatalf("s3server: %s: create bucket %s: %v\n%s", kind, testBucket, err, tail(s.logPath))
	}
	return s
}

// Config returns the s3.Config for the server's bucket under prefix.
func (s *Server) Config(prefix string) s3.Config {
	return s3.Config{
		Endpoint:  s.Endpoint,
		Region:    "us-east-1",
		Bucket:    s.Bucket,
		Prefix:    prefix,
		AccessKey: s.AccessKey,
		SecretKey: s.SecretKey,
		PathStyle: true,
	}
}

// URL returns the s3:// URL of prefix in the server's bucket, with the endpoint as a
// query parameter; credentials are in AccessKey and SecretKey.
func (s *Server) URL(prefix string) string {
	return fmt.Sprintf("s3://%s/%s?endpoint=%s&region=us-east-1&path_style=true", s.Bucket, prefix, s.Endpoint)
}

// Store opens an s3.Store under a prefix unique to this call, so tests sharing one
// server do not see each other's objects.
func (s *Server) Store(t testing.TB) *s3.Store {
	t.Helper()
	store, err := s3.New(s.Config(UniquePrefix(t)))
	if err != nil {
		t.Fatal(err)
	}
	return store
}

var unsafePrefixChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// UniquePrefix returns a prefix made of the test's name and a random suffix.
func UniquePrefix(t testing.TB) string {
	name := strings.Trim(unsafePrefixChars.ReplaceAllString(t.Name(), "-"), "-")
	return fmt.Sprintf("%s-%s", name, strings.ToLower(rand.Text()[:8]))
}

// makeBucket creates the bucket, retrying while the server still initialises (MinIO
// answers 503 for a moment after it reports ready).
func (s *Server) makeBucket(ctx context.Context) error {
	return s.whileInitialising(ctx, func(c *minio.Client) error {
		return c.MakeBucket(ctx, s.Bucket, minio.MakeBucketOptions{Region: "us-east-1"})
	})
}

// whileInitialising calls do until it returns anything but a 503, or startTimeout
// passes.
func (s *Server) whileInitialising(ctx context.Context, do func(*minio.Client) error) error {
	store, err := s3.New(s.Config(""))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	for {
		err := do(store.Client())
		if err == nil || minio.ToErrorResponse(err).StatusCode != http.StatusServiceUnavailable {
			return err
		}
		if serr := wait.Sleep(ctx, 100*time.Millisecond); serr != nil {
			return fmt.Errorf("%w (last error: %w)", serr, err)
		}
	}
}

// waitReady polls until the server is ready, or exits, or startTimeout passes. MinIO
// has a readiness endpoint (it answers 503 while it initialises); versitygw is ready
// once it answers HTTP at all (an unsigned request gets 403).
func (s *Server) waitReady(exited <-chan error) error {
	deadline := time.Now().Add(startTimeout)
	client := &http.Client{Timeout: time.Second}
	probe := s.Endpoint + "/"
	if s.Kind == MinIO {
		probe = s.Endpoint + "/minio/health/ready"
	}
	for {
		resp, err := client.Get(probe)
		if err == nil {
			resp.Body.Close()
			if s.Kind != MinIO || resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("%s: %s", probe, resp.Status)
		}
		select {
		case werr := <-exited:
			return fmt.Errorf("exited: %v", werr)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready within %s: %w", startTimeout, err)
		}
	}
}

// findBinary looks for name on PATH, then in $(go env GOPATH)/bin.
func findBinary(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	var dirs []string
	if gopath := os.Getenv("GOPATH"); gopath != "" {
		dirs = append(dirs, filepath.SplitList(gopath)...)
	} else if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		dirs = append(dirs, filepath.SplitList(strings.TrimSpace(string(out)))...)
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go")) // go's default GOPATH
	}
	for _, d := range dirs {
		p := filepath.Join(d, "bin", name)
		if info, err := os.Stat(p); err == nil && !info.IsDir() && info.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// freeAddr returns a 127.0.0.1 address with a port that was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// tail returns the end of a server's log for a failure message.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "(log empty)"
	}
	return "log:\n" + string(b)
}
