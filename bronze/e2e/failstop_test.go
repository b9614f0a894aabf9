package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lakectl/lakectl/bronze/gen"
	"github.com/lakectl/lakectl/internal/e2e"
	"github.com/lakectl/lakectl/internal/s3server"
)

// How ingest ends when the lake fails: on an error that no retry fixes it stops by
// itself, and on a signal it stops however the lake behaves. Deadlines here only
// keep a broken build from hanging the test run; nothing asserts how fast ingest is.
const failDeadline = 2 * time.Minute

// TestIngestStopsOnCorruptLog: with the latest commit of a Bronze table truncated,
// a POST to its stream is answered (503, not held), and ingest exits non-zero by
// itself with an error that names the commit.
func TestIngestStopsOnCorruptLog(t *testing.T) {
	dir := t.TempDir()
	latest := seedHTTPTable(t, dir, "events")
	truncate(t, latest)

	addr := e2e.FreeAddr(t)
	ing := start(t, "ingest", nil, "ingest", "--lake", dir, "--http", addr, "--compact=false", "--log-level", "warn")
	e2e.WaitHTTP(t, "http://"+addr+"/healthz", ing)
	code, body := post(addr, "events", `{"n":2}`)
	if code != http.StatusServiceUnavailable {
		t.Errorf("POST to a stream whose log is corrupt: status %d (%s), want 503", code, body)
	}
	waitExit(t, ing)
	if ing.Err() == nil {
		t.Fatalf("ingest exited 0 on a corrupt log; stderr:\n%s", e2e.Tail(ing.Stderr.String(), 3000))
	}
	assertNamesCommit(t, ing, latest)
}

// TestKafkaIngestStopsOnCorruptLog: the same through Kafka, where the corrupt
// ledger is met when the group assigns the stream's partitions.
func TestKafkaIngestStopsOnCorruptLog(t *testing.T) {
	dir := t.TempDir()
	latest := seedHTTPTable(t, dir, "events")
	truncate(t, latest)

	broker := devKafka(t, "events", 2)
	ing := start(t, "ingest", nil, "ingest", "--lake", dir, "--brokers", broker, "--topic", "events",
		"--compact=false", "--log-level", "warn")
	waitExit(t, ing)
	if ing.Err() == nil {
		t.Fatalf("ingest exited 0 on a corrupt log; stderr:\n%s", e2e.Tail(ing.Stderr.String(), 3000))
	}
	assertNamesCommit(t, ing, latest)
}

// TestSIGTERMWhileLakeHangs: the S3 server stops answering while a POST waits for
// its commit; SIGTERM ends ingest within its --shutdown-timeout, the POST gets an
// answer, and the exit status says that the shutdown was cut short.
func TestSIGTERMWhileLakeHangs(t *testing.T) {
	srv := s3server.Start(t, s3server.VersityGW)
	lk := s3LakeOn(t, srv)
	addr := e2e.FreeAddr(t)
	ing := start(t, "ingest", lk.env, "ingest", "--lake", lk.url, "--http", addr, "--compact=false",
		"--shutdown-timeout", "2s", "--log-level", "warn")
	e2e.WaitHTTP(t, "http://"+addr+"/healthz", ing)
	if code, body := post(addr, "events", `{"n":1}`); code != http.StatusOK {
		t.Fatalf("POST with the lake up: status %d (%s), want 200", code, body)
	}

	srv.Freeze(t)
	t.Cleanup(func() { srv.Thaw(t) })
	answered := make(chan int, 1)
	go func() {
		code, _ := post(addr, "events", `{"n":2}`)
		answered <- code
	}()
	// The POST must be waiting in ingest before the signal: the request only
	// completes once the frozen lake answers.
	select {
	case code := <-answered:
		t.Fatalf("POST answered %d while the lake is frozen", code)
	case <-time.After(time.Second):
	}
	signal(t, ing, syscall.SIGTERM)
	waitExit(t, ing)
	if ing.Err() == nil {
		t.Errorf("ingest exited 0 although its shutdown was cut short; stderr:\n%s", e2e.Tail(ing.Stderr.String(), 3000))
	}
	select {
	case code := <-answered:
		if code != http.StatusServiceUnavailable {
			t.Errorf("POST held over the shutdown: status %d, want 503", code)
		}
	case <-time.After(failDeadline):
		t.Fatal("the POST got no answer although ingest exited")
	}
}

// TestSecondSignalExitsAtOnce: while the first SIGTERM's shutdown waits on a frozen
// lake (with a shutdown timeout far beyond the test's deadline), a second signal
// ends the process.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	srv := s3server.Start(t, s3server.VersityGW)
	lk := s3LakeOn(t, srv)
	addr := e2e.FreeAddr(t)
	ing := start(t, "ingest", lk.env, "ingest", "--lake", lk.url, "--http", addr, "--compact=false",
		"--shutdown-timeout", "1h", "--log-level", "warn")
	e2e.WaitHTTP(t, "http://"+addr+"/healthz", ing)
	srv.Freeze(t)
	t.Cleanup(func() { srv.Thaw(t) })
	go post(addr, "events", `{"n":1}`)
	time.Sleep(time.Second) // let the POST reach its commit, which the frozen lake holds
	signal(t, ing, syscall.SIGTERM)
	time.Sleep(time.Second)
	if ing.Exited() {
		t.Fatalf("ingest exited on the first signal with a shutdown to finish: %v", ing.Err())
	}
	signal(t, ing, syscall.SIGTERM)
	waitExit(t, ing)
	if got, want := ing.Cmd.ProcessState.ExitCode(), 128+int(syscall.SIGTERM); got != want {
		t.Errorf("exit status after a second SIGTERM: %d, want %d", got, want)
	}
}

// seedHTTPTable starts ingest on a local lake, posts to stream until its table has
// a few commits, stops ingest cleanly, and returns the path of the latest commit.
func seedHTTPTable(t *testing.T, dir, stream string) string {
	t.Helper()
	addr := e2e.FreeAddr(t)
	ing := start(t, "ingest (seed)", nil, "ingest", "--lake", dir, "--http", addr, "--compact=false", "--log-level", "warn")
	e2e.WaitHTTP(t, "http://"+addr+"/healthz", ing)
	for i := range 3 {
		if code, body := post(addr, stream, fmt.Sprintf(`{"n":%d}`, i)); code != http.StatusOK {
			t.Fatalf("seed POST: status %d (%s)", code, body)
		}
	}
	ing.Term(t)
	commits, err := filepath.Glob(filepath.Join(dir, "bronze", stream, "_delta_log", "*.json"))
	if err != nil || len(commits) < 2 {
		t.Fatalf("seeded table has commits %v (%v), want at least 2", commits, err)
	}
	return commits[len(commits)-1] // zero-padded names sort by version
}

// truncate cuts the commit file in the middle of its first line, as a crash of a
// non-atomic writer, or a broken copy, would leave it.
func truncate(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data[:len(data)/3], 0o644); err != nil {
		t.Fatal(err)
	}
}

// assertNamesCommit checks that ingest's last words name the corrupt commit, by its
// file name or by its version.
func assertNamesCommit(t *testing.T, ing *e2e.Proc, commit string) {
	t.Helper()
	name := filepath.Base(commit)
	var version int64
	fmt.Sscanf(strings.TrimSuffix(name, ".json"), "%d", &version)
	stderr := ing.Stderr.String()
	last := stderr[strings.LastIndex(strings.TrimRight(stderr, "\n"), "\n")+1:]
	if !strings.HasPrefix(last, "lakectl: ") ||
		!(strings.Contains(last, name) || strings.Contains(last, fmt.Sprintf(" v%d", version))) {
		t.Errorf("ingest's error does not name the commit %s:\n%s", name, e2e.Tail(stderr, 3000))
	}
}

// post sends one NDJSON event and returns the status and body; 0 and the error when
// no answer came (the connection closed without one). It may outlive its test, so it
// reports through its results only.
func post(addr, stream, line string) (int, string) {
	client := &http.Client{Timeout: failDeadline}
	resp, err := client.Post("http://"+addr+"/v1/streams/"+stream+"/events", "application/x-ndjson", strings.NewReader(line+"\n"))
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	n, _ := resp.Body.Read(buf)
	b.Write(buf[:n])
	return resp.StatusCode, b.String()
}

// waitExit waits for p to exit by itself (or after a signal the test sent).
func waitExit(t *testing.T, p *e2e.Proc) {
	t.Helper()
	select {
	case <-p.Done():
	case <-time.After(failDeadline):
		t.Fatalf("%s still runs %s later; stderr:\n%s", p.Name, failDeadline, e2e.Tail(p.Stderr.String(), 3000))
	}
}

// TestGenAndBrokerStopOnSIGTERM: gen stops on SIGTERM although the broker it
// produces to has stopped answering, and still prints what it sent; the broker,
// once it runs again, stops on SIGTERM too.
func TestGenAndBrokerStopOnSIGTERM(t *testing.T) {
	brokerProc, broker := lakectl.DevKafkaProc(t, "events", 2)
	g := start(t, "gen", nil, "gen", "--brokers", broker, "--topic", "events", "--count", "10000000", "--rate", "2000")
	time.Sleep(time.Second)
	signal(t, brokerProc, syscall.SIGSTOP)
	t.Cleanup(func() { brokerProc.Cmd.Process.Signal(syscall.SIGCONT) })
	time.Sleep(time.Second) // records are in flight to the frozen broker
	signal(t, g, syscall.SIGTERM)
	waitExit(t, g)
	var sum gen.Summary
	if err := json.Unmarshal([]byte(g.Stdout.String()), &sum); err != nil || sum.Sent == 0 {
		t.Errorf("gen's summary after SIGTERM: %q (%v), want one with the events sent before the freeze", g.Stdout.String(), err)
	}

	signal(t, brokerProc, syscall.SIGCONT)
	signal(t, brokerProc, syscall.SIGTERM)
	waitExit(t, brokerProc)
	if err := brokerProc.Err(); err != nil {
		t.Errorf("dev kafka after SIGTERM: %v, want exit 0", err)
	}
}
