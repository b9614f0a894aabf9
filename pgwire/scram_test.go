package pgwire_test

import (
	"bytes"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/lakectl/lakectl/pgwire"
)

// The password never crosses the network: pgx and psql authenticate through a relay
// that records every byte they send, and none of those holds the password, while
// the server asked for SCRAM-SHA-256 and the client checked the server's signature
// (pgx and libpq refuse a server whose final SCRAM message does not verify).
func TestSCRAMKeepsThePasswordOffTheWire(t *testing.T) {
	addr := startServer(t, testLake(t), pgwire.Config{})
	relay, sent, received := recordingRelay(t, addr)

	conn, err := pgx.Connect(t.Context(), connString(relay, dashboardUser, dashboardPassword))
	if err != nil {
		t.Fatalf("connect through the relay: %v", err)
	}
	var n int
	if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM views.kpis").Scan(&n); err != nil || n != 3 {
		t.Errorf("query after SCRAM: %d rows, %v; want 3", n, err)
	}
	conn.Close(t.Context())

	if bytes.Contains(sent(), []byte(dashboardPassword)) {
		t.Errorf("the client sent the password %q in its bytes", dashboardPassword)
	}
	if !bytes.Contains(sent(), []byte("SCRAM-SHA-256")) || !bytes.Contains(received(), []byte("SCRAM-SHA-256")) {
		t.Errorf("the exchange was not SCRAM-SHA-256: server offered %q", received())
	}
	if !bytes.Contains(received(), []byte("v=")) {
		t.Error("the server sent no signature (SASL final message)")
	}
}

// A wrong password fails at the proof, with the same SQLSTATE as an unknown user,
// and the salt offered to an unknown user is the same on every attempt, as a real
// user's is, so neither tells whether the user exists.
func TestSCRAMUnknownUserLooksLikeAWrongPassword(t *testing.T) {
	addr := startServer(t, testLake(t), pgwire.Config{})
	salt := func(user string) string {
		relay, _, received := recordingRelay(t, addr)
		_, err := pgx.Connect(t.Context(), connString(relay, user, "not-the-password"))
		if err == nil || !strings.Contains(err.Error(), "28P01") {
			t.Errorf("%s with a wrong password: %v, want SQLSTATE 28P01", user, err)
		}
		_, rest, ok := bytes.Cut(received(), []byte(",s="))
		if !ok {
			t.Fatalf("%s: no salt in the server's first message", user)
		}
		s, _, _ := bytes.Cut(rest, []byte(","))
		return string(s)
	}
	for _, user := range []string{dashboardUser, "nobody"} {
		if a, b := salt(user), salt(user); a != b {
			t.Errorf("%s: salt %q, then %q; want the same each time", user, a, b)
		}
	}
}

// recordingRelay listens on loopback and relays each connection to addr, recording
// the bytes each way.
func recordingRelay(t *testing.T, addr string) (relay string, sent, received func() []byte) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var mu sync.Mutex
	var up, down bytes.Buffer
	copyInto := func(buf *bytes.Buffer, dst, src net.Conn) {
		b := make([]byte, 4096)
		for {
			n, err := src.Read(b)
			if n > 0 {
				mu.Lock()
				buf.Write(b[:n])
				mu.Unlock()
				if _, werr := dst.Write(b[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		dst.Close()
		src.Close()
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", addr)
			if err != nil {
				c.Close()
				continue
			}
			go copyInto(&up, s, c)
			go copyInto(&down, c, s)
		}
	}()
	read := func(buf *bytes.Buffer) func() []byte {
		return func() []byte {
			mu.Lock()
			defer mu.Unlock()
			return bytes.Clone(buf.Bytes())
		}
	}
	return l.Addr().String(), read(&up), read(&down)
}
