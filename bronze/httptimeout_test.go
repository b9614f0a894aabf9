package bronze

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lakectl/lakectl/lake/mem"
)

// guard bounds how long a test client waits for the server, so that a server that
// never answers fails the test rather than hangs it. It is no performance
// threshold: the timeouts under test are a small fraction of it.
const guard = 30 * time.Second

// rawConn is an HTTP/1.1 client on a plain TCP connection, so that a test can send
// a request as slowly, or as endlessly, as a hostile client would.
type rawConn struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
	wg   sync.WaitGroup
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(guard))
	c := &rawConn{t: t, conn: conn, r: bufio.NewReader(conn)}
	t.Cleanup(func() { conn.Close(); c.wg.Wait() })
	return c
}

// head writes the request line and headers of a POST to stream.
func (c *rawConn) head(stream string, headers ...string) {
	c.t.Helper()
	h := "POST /v1/streams/" + stream + "/events HTTP/1.1\r\nHost: lakectl\r\nContent-Type: application/x-ndjson\r\n"
	for _, x := range headers {
		h += x + "\r\n"
	}
	if _, err := io.WriteString(c.conn, h+"\r\n"); err != nil {
		c.t.Fatal(err)
	}
}

// trickle writes each of parts after a pause of every, in the background, until
// the parts run out or the server stops reading; with endless set it starts over.
func (c *rawConn) trickle(every time.Duration, endless bool, parts ...string) {
	c.wg.Go(func() {
		for {
			for _, p := range parts {
				time.Sleep(every)
				if _, err := io.WriteString(c.conn, p); err != nil {
					return
				}
			}
			if !endless {
				return
			}
		}
	})
}

// answer reads the response and its body.
func (c *rawConn) answer() (*http.Response, string) {
	c.t.Helper()
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		c.t.Fatalf("no answer: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("read answer: %v", err)
	}
	resp.Body.Close()
	return resp, string(b)
}

// bytesOf splits s into its bytes, to be sent one at a time.
func bytesOf(s string) []string {
	out := make([]string, len(s))
	for i := range s {
		out[i] = s[i : i+1]
	}
	return out
}

func TestHTTPSlowBodiesGet408AndStoreNothing(t *testing.T) {
	chunk := func(s string) string { return fmt.Sprintf("%x\r\n%s\r\n", len(s), s) }
	event := `{"n":12345678}` + "\n" // with its line end, 15 bytes
	tests := []struct {
		name    string
		cfg     HTTPConfig
		headers []string
		send    func(c *rawConn)
		want    string
	}{{
		// A body that keeps coming, never pausing for long, but never ends.
		name:    "endless chunked body",
		cfg:     HTTPConfig{BodyTimeout: 300 * time.Millisecond, StallTimeout: time.Minute},
		headers: []string{"Transfer-Encoding: chunked"},
		send:    func(c *rawConn) { c.trickle(10*time.Millisecond, true, chunk(event)) },
		want:    "did not arrive within 300ms",
	}, {
		// A short body sent a byte at a time: each byte in time, the whole too late.
		name:    "20 bytes a byte at a time",
		cfg:     HTTPConfig{BodyTimeout: 300 * time.Millisecond, StallTimeout: time.Minute},
		headers: []string{"Content-Length: 20"},
		send:    func(c *rawConn) { c.trickle(50*time.Millisecond, false, bytesOf(`{"a":"0123456789"}`+"\n\n")...) },
		want:    "did not arrive within 300ms",
	}, {
		// A body that stops: 5 of its 20 bytes, then nothing.
		name:    "stalled body",
		cfg:     HTTPConfig{BodyTimeout: time.Minute, StallTimeout: 200 * time.Millisecond},
		headers: []string{"Content-Length: 20"},
		send:    func(c *rawConn) { io.WriteString(c.conn, `{"a":`) },
		want:    "no bytes for 200ms",
	}, {
		name:    "stalled chunked body",
		cfg:     HTTPConfig{BodyTimeout: time.Minute, StallTimeout: 200 * time.Millisecond},
		headers: []string{"Transfer-Encoding: chunked"},
		send:    func(c *rawConn) { io.WriteString(c.conn, chunk(event)+chunk(event)) },
		want:    "no bytes for 200ms",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := mem.New()
			s, _ := runService(t, Config{Store: store, HTTPAddr: "127.0.0.1:0", HTTP: tc.cfg})
			c := dialRaw(t, s.Addr())
			c.head("web", tc.headers...)
			tc.send(c)
			resp, body := c.answer()
			if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(body, tc.want) || !strings.Contains(body, "nothing was stored") {
				t.Errorf("answer: got %d %s, want 408 saying %q", resp.StatusCode, body, tc.want)
			}
			if !resp.Close {
				t.Error("the answer keeps the connection open; its body's rest would be read as a request")
			}
			if got := tables(t, store); len(got) != 0 {
				t.Errorf("Bronze tables after a 408: got %v, want none", got)
			}
		})
	}
}

// An answer given before the body is read (here a 401) waits for the server to
// discard the body's rest: that wait is bounded as well.
func TestHTTPEarlyAnswerToAnEndlessBody(t *testing.T) {
	store := mem.New()
	s, _ := runService(t, Config{Store: store, HTTPAddr: "127.0.0.1:0", HTTP: HTTPConfig{
		Token: "sesame", BodyTimeout: 300 * time.Millisecond, StallTimeout: time.Minute,
	}})
	c := dialRaw(t, s.Addr())
	c.head("web", "Transfer-Encoding: chunked", "Authorization: Bearer nope")
	c.trickle(10*time.Millisecond, true, "3\r\n{}\n\r\n")
	if resp, body := c.answer(); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("answer: got %d %s, want 401", resp.StatusCode, body)
	}
	if got := tables(t, store); len(got) != 0 {
		t.Errorf("Bronze tables: got %v, want none", got)
	}
}

// A body within its limits is stored, and its answer waits for the commit however
// long that takes: the body's deadline ends with the body.
func TestHTTPSlowButTimelyBodyIsStored(t *testing.T) {
	store := mem.New()
	s, _ := runService(t, Config{Store: store, HTTPAddr: "127.0.0.1:0", HTTP: HTTPConfig{
		BodyTimeout: 2 * time.Second, StallTimeout: 2 * time.Second,
		BatchDelay: 3 * time.Second, // the commit comes after the body's deadline
	}})
	c := dialRaw(t, s.Addr())
	body := `{"a":1}` + "\n" + `{"a":2}` + "\n"
	c.head("web", fmt.Sprintf("Content-Length: %d", len(body)))
	c.trickle(50*time.Millisecond, false, body[:5], body[5:12], body[12:])
	resp, got := c.answer()
	if resp.StatusCode != http.StatusOK || !strings.Contains(got, `"accepted":2`) {
		t.Fatalf("answer: got %d %s, want 200 with 2 events", resp.StatusCode, got)
	}
	rows, ledger := latestRows(t, store, "web")
	if len(rows) != 2 || ledger.HTTPNext != 2 {
		t.Errorf("Bronze: got %d rows, HTTP ledger at %d, want 2 and 2", len(rows), ledger.HTTPNext)
	}
}

// A keep-alive connection that brings no new request is closed.
func TestHTTPIdleKeepAliveConnectionIsClosed(t *testing.T) {
	store := mem.New()
	s, _ := runService(t, Config{Store: store, HTTPAddr: "127.0.0.1:0", HTTP: HTTPConfig{IdleTimeout: 200 * time.Millisecond}})
	c := dialRaw(t, s.Addr())
	c.head("web", "Content-Length: 3")
	io.WriteString(c.conn, "{}\n")
	if resp, body := c.answer(); resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("first request: got %d %s (close %v), want 200 on a kept-alive connection", resp.StatusCode, body, resp.Close)
	}
	if _, err := c.r.ReadByte(); !errors.Is(err, io.EOF) {
		t.Errorf("idle connection: read got %v, want EOF (closed by the server)", err)
	}
}

// Headers that do not arrive in time leave no request to answer: the connection
// is closed.
func TestHTTPSlowHeadersCloseTheConnection(t *testing.T) {
	store := mem.New()
	s, _ := runService(t, Config{Store: store, HTTPAddr: "127.0.0.1:0", HTTP: HTTPConfig{HeaderTimeout: 200 * time.Millisecond}})
	c := dialRaw(t, s.Addr())
	io.WriteString(c.conn, "POST /v1/streams/web/events HTTP/1.1\r\nHost: lakectl\r\n")
	if b, err := io.ReadAll(c.r); err != nil || len(b) != 0 {
		t.Errorf("incomplete headers: read %q, %v; want the connection closed", b, err)
	}
	if got := tables(t, store); len(got) != 0 {
		t.Errorf("Bronze tables: got %v, want none", got)
	}
}
