package bronze

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/lakectl/lakectl/lake/mem"
)

// A body larger than the line scanner's buffer must still store every line byte
// for byte: lines may not alias a buffer that is reused for the next lines.
func TestHTTPLargeBodyKeepsEveryLineExactly(t *testing.T) {
	var body strings.Builder
	var want []string
	for i := range 3000 {
		line := fmt.Sprintf(`{"i":%d,"pad":"%s"}`, i, strings.Repeat(string(rune('a'+i%26)), 40+i%50))
		want = append(want, line)
		body.WriteString(line + "\n")
	}
	lines, _, _, err := readLines(strings.NewReader(body.String()), 1<<20, 16<<20)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != len(want) {
		t.Fatalf("lines: got %d, want %d", len(lines), len(want))
	}
	for i := range want {
		if string(lines[i]) != want[i] {
			t.Fatalf("line %d: got %q, want %q", i, lines[i], want[i])
		}
	}

	store := mem.New()
	s, stop := runService(t, Config{Store: store, HTTPAddr: "127.0.0.1:0"})
	code, resp := post(t, "http://"+s.Addr()+"/v1/streams/big/events", "", body.String())
	if code != http.StatusOK {
		t.Fatalf("POST: %d %s", code, resp)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	rows, _ := latestRows(t, store, "big")
	got := map[int64][]byte{}
	for _, r := range rows {
		got[r.Offset] = r.Payload
	}
	if len(got) != len(want) {
		t.Fatalf("rows: got %d, want %d", len(got), len(want))
	}
	for i, w := range want {
		if !bytes.Equal(got[int64(i)], []byte(w)) {
			t.Fatalf("seq %d: payload %q, want %q", i, got[int64(i)], w)
		}
	}
}

// Payload bytes are kept exactly: invalid UTF-8, NUL, and carriage returns inside
// or at the end of a line (only the line end, "\n" or "\r\n", is removed).
func TestHTTPLinesKeepTheirBytes(t *testing.T) {
	body := "a\xff\xfe\x00b\n\r\n{\"x\":1}\r\r\n c \nlast-without-newline"
	lines, _, _, err := readLines(strings.NewReader(body), 1<<20, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a\xff\xfe\x00b", "{\"x\":1}\r", " c ", "last-without-newline"}
	if len(lines) != len(want) {
		t.Fatalf("lines: got %q, want %q", lines, want)
	}
	for i := range want {
		if string(lines[i]) != want[i] {
			t.Errorf("line %d: got %q, want %q", i, lines[i], want[i])
		}
	}
}

// A line of exactly MaxLineBytes is accepted; one byte more is refused with 413.
func TestHTTPLineLimitIsExact(t *testing.T) {
	const limit = 100 << 10 // above the scanner's initial buffer
	ok := strings.Repeat("x", limit)
	lines, _, _, err := readLines(strings.NewReader(ok+"\r\n"+ok), limit, 1<<20)
	if err != nil || len(lines) != 2 || len(lines[0]) != limit || len(lines[1]) != limit {
		t.Fatalf("lines at the limit: err %v, %d lines", err, len(lines))
	}
	_, _, code, err := readLines(strings.NewReader("a\n"+ok+"y\n"), limit, 1<<20)
	if err == nil || code != http.StatusRequestEntityTooLarge {
		t.Fatalf("line over the limit: code %d err %v, want 413", code, err)
	}
}
