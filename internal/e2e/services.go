package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lakectl/lakectl/bronze/gen"
)

// DevKafka starts `lakectl dev kafka` with one topic on a free loopback port and
// returns its address.
func (b Binary) DevKafka(t testing.TB, topic string, partitions int) string {
	t.Helper()
	_, addr := b.DevKafkaProc(t, topic, partitions)
	return addr
}

// DevKafkaProc is DevKafka for tests that also signal the broker (SIGSTOP it for
// an outage): it returns the process too.
func (b Binary) DevKafkaProc(t testing.TB, topic string, partitions int) (*Proc, string) {
	t.Helper()
	p := b.Start(t, "dev kafka", nil, "dev", "kafka", "--listen", "127.0.0.1:0", "--topic", fmt.Sprintf("%s:%d", topic, partitions))
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if line, _, ok := strings.Cut(p.Stdout.String(), "\n"); ok {
			return p, strings.TrimSpace(line)
		}
		select {
		case <-p.done:
			t.Fatalf("dev kafka exited: %v\n%s", p.err, p.Stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatal("dev kafka printed no address")
	return nil, ""
}

// GenSummary waits for a `lakectl gen` process and parses the JSON summary it
// printed; a failed gen fails the test.
func GenSummary(t testing.TB, p *Proc) gen.Summary {
	t.Helper()
	p.Wait(t)
	if p.err != nil {
		t.Fatalf("gen: %v\n%s", p.err, p.Stderr.String())
	}
	var s gen.Summary
	if err := json.Unmarshal([]byte(p.Stdout.String()), &s); err != nil {
		t.Fatalf("gen output %q: %v", p.Stdout.String(), err)
	}
	return s
}

// FreeAddr returns a loopback address that nothing listens on right now.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// WaitHTTP waits until GET url answers (any status), failing if p exits first.
func WaitHTTP(t testing.TB, url string, p *Proc) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			return
		}
		if p.Exited() {
			t.Fatalf("%s exited: %v\n%s", p.Name, p.err, Tail(p.Stderr.String(), 3000))
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer %s: %v", p.Name, url, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Query runs `lakectl query --format json SQL` with extra args (--pipeline …) and
// returns its rows, one map per line.
func (b Binary) Query(t testing.TB, env []string, sql string, args ...string) []map[string]any {
	t.Helper()
	out := b.Run(t, env, append([]string{"query", "--format", "json", sql}, args...)...)
	var rows []map[string]any
	dec := json.NewDecoder(strings.NewReader(out))
	dec.UseNumber()
	for dec.More() {
		var row map[string]any
		if err := dec.Decode(&row); err != nil {
			t.Fatalf("query %q: output %q: %v", sql, Tail(out, 500), err)
		}
		rows = append(rows, row)
	}
	return rows
}
