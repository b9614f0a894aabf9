package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lakectl/lakectl/bronze"
	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/internal/e2e"
	"github.com/lakectl/lakectl/internal/s3server"
	"github.com/lakectl/lakectl/lake"
)

// Outages of the lake and of the broker, a graceful stop, and backpressure, all
// through real processes. Every wait has a deadline that fails the test; nothing
// here asserts how fast anything is.

// outageFreeze is how long an outage lasts: many flush intervals (outageFlush), so
// that ingest has files to flush, and so uploads and commits to retry, while the
// server does not answer.
const (
	outageFreeze = 3 * time.Second
	outageFlush  = 200 * time.Millisecond
)

// TestMinIOFrozen: MinIO stops answering (SIGSTOP) mid-run and resumes; ingest
// waits it out and Bronze ends up with exactly what gen sent.
func TestMinIOFrozen(t *testing.T) {
	srv := s3server.Start(t, s3server.MinIO)
	testOutage(t, s3LakeOn(t, srv), nil, func(t *testing.T) {
		srv.Freeze(t)
		time.Sleep(outageFreeze)
		srv.Thaw(t)
	})
}

// TestMinIORestarted: MinIO crashes (SIGKILL) mid-run and comes back on the same
// port and data directory; ingest retries through the refused connections.
func TestMinIORestarted(t *testing.T) {
	srv := s3server.Start(t, s3server.MinIO)
	testOutage(t, s3LakeOn(t, srv), nil, func(t *testing.T) {
		srv.Freeze(t) // hold it still so that requests are in flight when it dies
		time.Sleep(outageFreeze / 2)
		srv.Restart(t)
	})
}

// TestBrokerFrozen: the Kafka broker stops answering (SIGSTOP) mid-run, with gen
// producing and ingest fetching, and resumes.
func TestBrokerFrozen(t *testing.T) {
	testOutage(t, localLake(t), func(t *testing.T, broker *e2e.Proc) {
		signal(t, broker, syscall.SIGSTOP)
		time.Sleep(outageFreeze)
		signal(t, broker, syscall.SIGCONT)
	}, nil)
}

// testOutage runs gen into a fresh broker and one ingest into lk; once the ledger
// has moved, it calls brokerOutage (with the broker's process) or lakeOutage. Then
// it waits until ingest has caught up, checks that ingest never exited on its own,
// stops it with SIGTERM, and checks with verify that Bronze holds every record gen
// sent exactly once.
func testOutage(t *testing.T, lk lakeUnderTest, brokerOutage func(*testing.T, *e2e.Proc), lakeOutage func(*testing.T)) {
	const stream, count = "events", 15000
	brokerProc, broker := lakectl.DevKafkaProc(t, stream, 4)
	g := start(t, "gen", nil, "gen", "--brokers", broker, "--topic", stream, "--count", fmt.Sprint(count),
		"--rate", "3000", "--seed", "11", "--duplicates", "0.02", "--malformed", "0.01")
	ing := start(t, "ingest", lk.env, "ingest", "--lake", lk.url, "--brokers", broker, "--topic", stream,
		"--flush-interval", outageFlush.String(), "--session-timeout", "10s", "--log-level", "warn")
	store := openLake(t, lk)

	before := waitLedgerMoves(t, store, stream, ing)
	began := time.Now()
	if brokerOutage != nil {
		brokerOutage(t, brokerProc)
	} else {
		lakeOutage(t)
	}
	t.Logf("outage over after %s; the ledger held %d offsets when it began", time.Since(began).Round(time.Millisecond), before)
	thawed := time.Now()

	sum := e2e.GenSummary(t, g)
	if sum.Sent != count || sum.Failed != 0 {
		t.Fatalf("gen: sent %d, failed %d (%s); want %d sent", sum.Sent, sum.Failed, sum.FirstError, count)
	}
	waitLedger(t, store, stream, sum.Sent, ing)
	t.Logf("caught up %s after the outage ended", time.Since(thawed).Round(time.Millisecond))
	if ing.Exited() {
		t.Fatalf("ingest exited during the run: %v", ing.Err())
	}
	ing.Term(t)
	if n := strings.Count(ing.Stderr.String(), `"msg":"retrying"`) + strings.Count(ing.Stderr.String(), `"msg":"commit failed, retrying"`); n > 0 {
		t.Logf("ingest logged %d retries", n)
	}

	rep := verify(t, lk.env, "--lake", lk.url, "--stream", stream, "--brokers", broker)
	if rep.KafkaRows != sum.Sent || rep.Rows != sum.Sent {
		t.Errorf("Bronze rows: got %d (kafka %d), want %d as gen sent", rep.Rows, rep.KafkaRows, sum.Sent)
	}
}

// TestSIGTERMCommitsWhatWasConsumed: SIGTERM mid-stream, with files open that no
// flush interval would have closed yet; ingest exits 0, having committed exactly
// what it consumed, and a restart continues from there with no gap and no duplicate.
func TestSIGTERMCommitsWhatWasConsumed(t *testing.T) {
	const stream, count = "events", 20000
	lk := localLake(t)
	broker := devKafka(t, stream, 4)
	g := start(t, "gen", nil, "gen", "--brokers", broker, "--topic", stream, "--count", fmt.Sprint(count),
		"--rate", "5000", "--seed", "12")
	addr := e2e.FreeAddr(t)
	ing := start(t, "ingest", nil, "ingest", "--lake", lk.url, "--brokers", broker, "--topic", stream,
		"--flush-interval", "10m", "--http", addr, "--log-level", "info")
	e2e.WaitHTTP(t, "http://"+addr+"/healthz", ing)
	store := openLake(t, lk)

	// Mid-stream: ingest has consumed records, and holds them in open files.
	deadline := time.Now().Add(30 * time.Second)
	for recordsIn(t, addr, stream) < 2000 {
		if ing.Exited() || time.Now().After(deadline) {
			t.Fatalf("ingest consumed %v records and has exited: %v", recordsIn(t, addr, stream), ing.Exited())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := ledgerOffsets(t, store, stream); n != 0 {
		t.Fatalf("the ledger already holds %d offsets; the test wants files that only the shutdown flushes", n)
	}
	ing.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-ing.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("ingest did not exit within 30 s of SIGTERM")
	}
	if err := ing.Err(); err != nil {
		t.Fatalf("ingest exited with %v after SIGTERM, want 0", err)
	}

	// What it consumed is what it committed, partition by partition.
	consumed, committed := stopLog(t, ing)
	snap, err := lake.NewTable(store, layout.TableRoot(stream)).Latest(t.Context())
	if err != nil {
		t.Fatalf("load bronze/%s after SIGTERM: %v", stream, err)
	}
	ledger := bronze.ReadLedger(snap).Next
	var total int64
	for tp, next := range ledger {
		if consumed[tp.String()] != next || committed[tp.String()] != next {
			t.Errorf("%s: ledger %d, ingest consumed up to %d and reports %d committed", tp, next, consumed[tp.String()], committed[tp.String()])
		}
		total += next
	}
	if len(ledger) != len(consumed) {
		t.Errorf("ledger has %d partitions, ingest consumed from %d (%v)", len(ledger), len(consumed), consumed)
	}
	if total == 0 || total >= count {
		t.Fatalf("the shutdown committed %d of %d offsets; the test did not stop ingest mid-stream", total, count)
	}
	t.Logf("SIGTERM after %d of %d records: all committed by the shutdown flush", total, count)

	sum := e2e.GenSummary(t, g)
	if sum.Sent != count || sum.Failed != 0 {
		t.Fatalf("gen: sent %d, failed %d; want %d sent", sum.Sent, sum.Failed, count)
	}
	again := start(t, "ingest (restart)", nil, "ingest", "--lake", lk.url, "--brokers", broker, "--topic", stream,
		"--flush-interval", outageFlush.String(), "--log-level", "warn")
	waitLedger(t, store, stream, sum.Sent, again)
	again.Term(t)
	rep := verify(t, nil, "--lake", lk.url, "--stream", stream, "--brokers", broker)
	if rep.Rows != sum.Sent {
		t.Errorf("Bronze rows: got %d, want %d as gen sent", rep.Rows, sum.Sent)
	}
}

// Backpressure bounds. The limit is what `--memory-limit` gives the Go runtime as
// its soft limit, and what ingest sizes its fetch and row-group buffers from (a
// 32nd and an eighth; TestMemoryLimitSizesBuffers checks that sizing). The margin
// covers what that limit does not govern or cannot hold to exactly: the binary's
// mapped code (DuckDB is linked in; an idle ingest is about 40 MiB resident), thread
// stacks, and the GC's overshoot of a soft limit, which grows on a busy machine.
// Measured peaks: 106 to 115 MiB. What this test proves is that memory does not follow
// the backlog, so the backlog is kept well above the bound.
const (
	backpressureLimit  = 64 << 20
	backpressureMargin = 96 << 20
	// backpressureBacklog events arrive while the lake is frozen: about 125 bytes
	// each, some 250 MB of payloads, half again the bound, so a consumer that kept
	// fetching without flushing would break it.
	backpressureBacklog = 2_000_000
)

// TestBackpressureWhileLakeFrozen: with MinIO frozen, gen pours a large backlog into
// the broker as fast as it can. Ingest cannot flush, so it must stop fetching: its
// resident memory, sampled throughout the outage, stays under the memory limit plus
// a fixed margin while the backlog waits in the broker. After the thaw it catches up.
func TestBackpressureWhileLakeFrozen(t *testing.T) {
	const stream = "events"
	srv := s3server.Start(t, s3server.MinIO)
	lk := s3LakeOn(t, srv)
	broker := devKafka(t, stream, 4)
	// The default flush interval (10 s): files fill for longer than the outage
	// lasts, so what bounds memory is ingest's buffering, not frequent flushes.
	addr := e2e.FreeAddr(t)
	ing := start(t, "ingest", lk.env, "ingest", "--lake", lk.url, "--brokers", broker, "--topic", stream,
		"--memory-limit", fmt.Sprint(backpressureLimit), "--http", addr, "--compact=false", "--log-level", "warn")
	e2e.WaitHTTP(t, "http://"+addr+"/healthz", ing)
	store := openLake(t, lk)

	warm := start(t, "gen (before)", nil, "gen", "--brokers", broker, "--topic", stream, "--count", "5000",
		"--rate", "5000", "--seed", "13")
	warmSum := e2e.GenSummary(t, warm)
	deadline := time.Now().Add(30 * time.Second)
	for recordsIn(t, addr, stream) < float64(warmSum.Sent) {
		if ing.Exited() || time.Now().After(deadline) {
			t.Fatalf("ingest consumed %v of %d records before the outage (exited: %v)", recordsIn(t, addr, stream), warmSum.Sent, ing.Exited())
		}
		time.Sleep(20 * time.Millisecond)
	}

	srv.Freeze(t)
	frozen := true
	defer func() {
		if frozen {
			srv.Thaw(t)
		}
	}()
	flood := start(t, "gen (flood)", nil, "gen", "--brokers", broker, "--topic", stream,
		"--count", fmt.Sprint(backpressureBacklog), "--seed", "14")
	var peak, samples int64
	sample := func() {
		rss := residentBytes(t, ing)
		peak = max(peak, rss)
		samples++
		if rss > backpressureLimit+backpressureMargin {
			t.Fatalf("ingest resident memory %d MiB during the outage, over the bound %d MiB (limit %d MiB + margin %d MiB)",
				rss>>20, (backpressureLimit+backpressureMargin)>>20, backpressureLimit>>20, backpressureMargin>>20)
		}
	}
	deadline = time.Now().Add(60 * time.Second)
	for !flood.Exited() {
		if time.Now().After(deadline) {
			t.Fatal("gen did not finish sending the backlog within 60 s")
		}
		sample()
		time.Sleep(25 * time.Millisecond)
	}
	sum := e2e.GenSummary(t, flood)
	if sum.Sent != backpressureBacklog || sum.Failed != 0 {
		t.Fatalf("gen: sent %d, failed %d; want %d", sum.Sent, sum.Failed, backpressureBacklog)
	}
	if sum.Bytes <= backpressureLimit+backpressureMargin {
		t.Fatalf("the backlog is %d bytes, not more than the bound; the test would prove nothing", sum.Bytes)
	}
	// Ingest fetches while it waits; sample on after the last record arrived.
	for range 40 {
		sample()
		time.Sleep(25 * time.Millisecond)
	}
	t.Logf("lake frozen: %d MB of backlog in the broker, ingest peak RSS %d MiB over %d samples (bound %d MiB)",
		sum.Bytes/1e6, peak>>20, samples, (backpressureLimit+backpressureMargin)>>20)
	if ing.Exited() {
		t.Fatalf("ingest exited during the outage: %v", ing.Err())
	}

	srv.Thaw(t)
	frozen = false
	thawed := time.Now()
	waitLedger(t, store, stream, warmSum.Sent+sum.Sent, ing)
	t.Logf("caught up with the %d-record backlog %s after the thaw", sum.Sent, time.Since(thawed).Round(time.Millisecond))
	ing.Term(t)
}

// s3LakeOn puts a lake under a fresh prefix of a server the test controls.
func s3LakeOn(t *testing.T, srv *s3server.Server) lakeUnderTest {
	return lakeUnderTest{
		url: srv.URL(s3server.UniquePrefix(t)),
		env: []string{"AWS_ACCESS_KEY_ID=" + srv.AccessKey, "AWS_SECRET_ACCESS_KEY=" + srv.SecretKey},
	}
}

func signal(t *testing.T, p *e2e.Proc, sig syscall.Signal) {
	t.Helper()
	if err := p.Cmd.Process.Signal(sig); err != nil {
		t.Fatalf("%s to %s: %v", sig, p.Name, err)
	}
}

// waitLedgerMoves waits until ingest has committed something, and returns how much.
func waitLedgerMoves(t *testing.T, store lake.Store, stream string, ing *e2e.Proc) int64 {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if n := ledgerOffsets(t, store, stream); n > 0 {
			return n
		}
		if ing.Exited() {
			t.Fatalf("%s exited before its first commit: %v\n%s", ing.Name, ing.Err(), e2e.Tail(ing.Stderr.String(), 3000))
		}
		if time.Now().After(deadline) {
			t.Fatal("ingest committed nothing within 30 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// recordsIn reads lakectl_bronze_records_total for the stream's Kafka records from
// ingest's /metrics.
func recordsIn(t *testing.T, addr, stream string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("scrape ingest metrics: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("scrape ingest metrics: %v", err)
	}
	want := fmt.Sprintf(`lakectl_bronze_records_total{source="kafka",stream=%q} `, stream)
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), want); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("metric line %q: %v", line, err)
			}
			return n
		}
	}
	return 0
}

// stopLog finds ingest's "kafka ingest stopped" log line and returns the positions
// it consumed up to and committed, by "topic/partition".
func stopLog(t *testing.T, p *e2e.Proc) (consumed, committed map[string]int64) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(p.Stderr.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line struct {
			Msg       string           `json:"msg"`
			Consumed  map[string]int64 `json:"consumed"`
			Committed map[string]int64 `json:"committed"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "kafka ingest stopped" {
			return line.Consumed, line.Committed
		}
	}
	t.Fatalf("%s logged no \"kafka ingest stopped\" line:\n%s", p.Name, e2e.Tail(p.Stderr.String(), 3000))
	return nil, nil
}

// residentBytes reads VmRSS of a running process from /proc.
func residentBytes(t *testing.T, p *e2e.Proc) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Cmd.Process.Pid))
	if err != nil {
		t.Fatalf("read %s's memory: %v", p.Name, err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmRSS line %q: %v", line, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmRSS in /proc/%d/status", p.Cmd.Process.Pid)
	return 0
}
