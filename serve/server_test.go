package serve

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A client that never finishes its headers is cut off: the server holds nothing for
// it past the header timeout.
func TestServerCutsOffStalledHeaders(t *testing.T) {
	srv := NewServer("127.0.0.1:0", http.NotFoundHandler(), 0)
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.WriteTimeout <= 0 || srv.IdleTimeout <= 0 {
		t.Fatalf("timeouts: header %s, read %s, write %s, idle %s; want all set", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout)
	}
	srv.ReadHeaderTimeout = 50 * time.Millisecond // the test's, to end quickly
	ln, err := net.Listen("tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /v1/status HTTP/1.1\r\nHost: lakectl\r\n"); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(time.Minute)) // only so a regression cannot hang the test
	got, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("connection not closed by the server: %v", err)
	}
	if strings.Contains(string(got), "200 OK") || strings.Contains(string(got), "404") {
		t.Errorf("the stalled request was answered: %q", got)
	}
}
