package pgwire_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/lakectl/lakectl/catalog"
	"github.com/lakectl/lakectl/internal/testcert"
	"github.com/lakectl/lakectl/pgwire"
)

// tlsServer serves the test lake with a self-signed certificate, and returns
// the address and the certificate's file.
func tlsServer(t *testing.T) (addr, certFile string) {
	t.Helper()
	certFile, keyFile := testcert.Write(t, t.TempDir())
	cfg, err := pgwire.LoadTLS(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return startServer(t, testLake(t), pgwire.Config{TLS: cfg}), certFile
}

// withSSL is connString with sslmode (and sslrootcert) in place of sslmode=disable.
func withSSL(addr, mode, rootCert string) string {
	s := strings.Replace(connString(addr, dashboardUser, dashboardPassword), "sslmode=disable", "sslmode="+mode, 1)
	if rootCert != "" {
		s += "&sslrootcert=" + rootCert
	}
	return s
}

// With a certificate, pgx connects over TLS (verifying the certificate too) and
// queries; without TLS it is refused with SQLSTATE 28000 before a password is asked.
func TestPgxTLS(t *testing.T) {
	addr, certFile := tlsServer(t)
	for _, mode := range []string{"require", "verify-full"} {
		t.Run(mode, func(t *testing.T) {
			conn, err := pgx.Connect(t.Context(), withSSL(addr, mode, certFile))
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			defer conn.Close(t.Context())
			if _, ok := conn.PgConn().Conn().(*tls.Conn); !ok {
				t.Errorf("connection is %T, want *tls.Conn", conn.PgConn().Conn())
			}
			var n int64
			if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM views.kpis").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 3 {
				t.Errorf("count(*) = %d, want 3", n)
			}
		})
	}
	t.Run("disable", func(t *testing.T) {
		_, err := pgx.Connect(t.Context(), withSSL(addr, "disable", ""))
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "28000" || !strings.Contains(pgErr.Message, "requires TLS") {
			t.Fatalf("got %v, want SQLSTATE 28000 saying TLS is required", err)
		}
	})
}

// psql with sslmode=require queries over TLS; with sslmode=disable it is told that
// the server requires TLS.
func TestPsqlTLS(t *testing.T) {
	psql := needTool(t, "psql", "postgresql-client")
	addr, _ := tlsServer(t)
	run := func(mode string) (string, error) {
		cmd := exec.CommandContext(t.Context(), psql, "-X", "-A", "-t", "-c",
			"SELECT label FROM views.kpis ORDER BY day LIMIT 1", connString(addr, dashboardUser, ""))
		cmd.Env = append(os.Environ(), "PGPASSWORD="+dashboardPassword, "PGSSLMODE="+mode, "PGCONNECT_TIMEOUT=10")
		// connString says sslmode=disable; PGSSLMODE gives the mode only if the URL does not.
		cmd.Args[len(cmd.Args)-1] = strings.Replace(cmd.Args[len(cmd.Args)-1], "?sslmode=disable", "", 1)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run("require")
	if err != nil || strings.TrimSpace(out) != "shop 0" {
		t.Errorf("sslmode=require: %v\n%s", err, out)
	}
	out, err = run("disable")
	if err == nil || !strings.Contains(out, "this server requires TLS: connect with sslmode=require") {
		t.Errorf("sslmode=disable: got %v\n%s\nwant a refusal saying TLS is required", err, out)
	}
}

// Without TLS, Serve refuses an address beyond loopback, saying why, unless
// unencrypted connections are allowed explicitly; with TLS it serves there.
func TestServeRefusesUnencryptedBeyondLoopback(t *testing.T) {
	certFile, keyFile := testcert.Write(t, t.TempDir())
	tlsCfg, err := pgwire.LoadTLS(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	store := testLake(t)
	for _, tc := range []struct {
		name    string
		cfg     pgwire.Config
		refused bool
	}{
		{"unencrypted", pgwire.Config{}, true},
		{"unencrypted allowed", pgwire.Config{AllowUnencrypted: true}, false},
		{"tls", pgwire.Config{TLS: tlsCfg}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Tables = pgwire.CatalogTables(func() *catalog.Catalog { return catalog.ForLake(catalog.Config{Store: store}) })
			cfg.Users = map[string]pgwire.User{dashboardUser: {Password: dashboardPassword, Reads: dashboardReads}}
			srv, err := pgwire.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			l, err := net.Listen("tcp", "0.0.0.0:0") // every interface
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- srv.Serve(ctx, l) }()
			if tc.refused {
				if err := <-done; err == nil || !strings.Contains(err.Error(), "queries and results would cross the network unencrypted") {
					t.Errorf("serve: %v, want a refusal saying traffic would go unencrypted", err)
				}
				return
			}
			mode := "disable"
			if cfg.TLS != nil {
				mode = "require"
			}
			addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
			conn, err := pgx.Connect(t.Context(), withSSL(addr, mode, ""))
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			conn.Close(t.Context())
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
		})
	}
}

// A TLS configuration without a certificate is an error, not a silent fallback to
// clear text.
func TestNewRefusesTLSWithoutCertificate(t *testing.T) {
	_, err := pgwire.New(pgwire.Config{
		Tables: pgwire.CatalogTables(func() *catalog.Catalog { return nil }),
		Users:  map[string]pgwire.User{dashboardUser: {Password: dashboardPassword}},
		TLS:    &tls.Config{},
	})
	if err == nil || !strings.Contains(err.Error(), "no certificate") {
		t.Fatalf("New: %v, want an error saying TLS holds no certificate", err)
	}
}
