package main

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/lakectl/lakectl/internal/testcert"
	"github.com/lakectl/lakectl/pipeline"
)

// The port's certificate comes from the command line, else from lakectl.yaml relative
// to the pipeline directory; a certificate without its key is an error.
func TestPGTLSConfigSources(t *testing.T) {
	dir := t.TempDir()
	cert, key := testcert.Write(t, dir)
	fromFile := &pipeline.Pipeline{Dir: dir, Serve: pipeline.Serve{PG: pipeline.ServePG{TLSCert: "server.crt", TLSKey: "server.key"}}}
	for _, tc := range []struct {
		name    string
		p       *pipeline.Pipeline
		files   pgTLS
		wantTLS bool
		wantErr string
	}{
		{"none", &pipeline.Pipeline{Dir: dir}, pgTLS{}, false, ""},
		{"lakectl.yaml, relative", fromFile, pgTLS{}, true, ""},
		{"flags", &pipeline.Pipeline{Dir: t.TempDir()}, pgTLS{cert: cert, key: key}, true, ""},
		{"flags win", fromFile, pgTLS{cert: filepath.Join(dir, "missing.crt"), key: key}, false, "missing.crt"},
		{"cert without key", &pipeline.Pipeline{Dir: dir}, pgTLS{cert: cert}, false, "needs its key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := pgTLSConfig(tc.p, tc.files)
			switch {
			case tc.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("got %v, want an error naming %q", err, tc.wantErr)
				}
			case err != nil:
				t.Errorf("got %v", err)
			case (cfg != nil) != tc.wantTLS:
				t.Errorf("TLS %v, want %v", cfg != nil, tc.wantTLS)
			}
		})
	}
}

// serve --pg on every interface: without TLS it refuses to start and says why; with
// lakectl.yaml's certificate it serves TLS and refuses a client without it.
func TestServePostgresTLS(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "p")
	mustLakectl(t, "init", dir)
	port := strconv.Itoa(freePort(t))
	env := []string{"LAKECTL_TOKEN_PRODUCT=p-secret"}

	res := runLakectlEnv(t, env, "serve", "-p", dir, "--http", freeAddr(t), "--poll", "1h", "--pg", "0.0.0.0:"+port)
	if res.exitCode != 1 || !strings.Contains(res.stderr, "queries and results would cross the network unencrypted") ||
		!strings.Contains(res.stderr, "serve.pg.allow_unencrypted") {
		t.Errorf("serve --pg 0.0.0.0 without TLS: exit %d, want 1 with the reason and the setting\n%s", res.exitCode, res.stderr)
	}

	testcert.Write(t, dir)
	yaml := filepath.Join(dir, "lakectl.yaml")
	b, err := os.ReadFile(yaml)
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, "\nserve:\n  pg:\n    tls_cert: server.crt\n    tls_key: server.key\n"...)
	if err := os.WriteFile(yaml, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd, stderr := startServe(t, freeAddr(t), env, "-p", dir, "--poll", "1h", "--pg", "0.0.0.0:"+port)
	url := func(mode string) string {
		return "postgres://product:p-secret@127.0.0.1:" + port + "/lake?sslmode=" + mode
	}
	ctx := t.Context()
	var conn *pgx.Conn
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if conn, err = pgx.Connect(ctx, url("require")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("connect: %v\n%s", err, stderr.String())
		}
	}
	var n int
	if err := conn.QueryRow(ctx, "SELECT 41 + 1").Scan(&n); err != nil || n != 42 {
		t.Errorf("SELECT 41 + 1 over TLS: %d, %v", n, err)
	}
	conn.Close(ctx)
	var pgErr *pgconn.PgError
	if _, err := pgx.Connect(ctx, url("disable")); !errors.As(err, &pgErr) || pgErr.Code != "28000" {
		t.Errorf("sslmode=disable: %v, want SQLSTATE 28000 (TLS required)", err)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("serve after SIGTERM: %v\n%s", err, stderr.String())
	}
}

// freePort is a TCP port that nothing listens on.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
