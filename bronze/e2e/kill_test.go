package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/lakectl/lakectl/internal/e2e"
	"github.com/lakectl/lakectl/internal/footercheck"
	"github.com/lakectl/lakectl/internal/s3server"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/stores"
)

// lakeUnderTest is where a test's lake lives: its URL, the environment the
// processes need to reach it, and how the test itself opens it.
type lakeUnderTest struct {
	url string
	env []string
}

func localLake(t *testing.T) lakeUnderTest {
	return lakeUnderTest{url: t.TempDir()}
}

func minioLake(t *testing.T) lakeUnderTest { return s3Lake(t, s3server.MinIO) }

func versityLake(t *testing.T) lakeUnderTest { return s3Lake(t, s3server.VersityGW) }

// s3Lake starts a real S3 server of the kind given (it fails in CI, and skips
// elsewhere, when the binary is missing) and puts the lake under a fresh prefix.
func s3Lake(t *testing.T, kind string) lakeUnderTest {
	return s3LakeOn(t, s3server.Start(t, kind))
}

func TestKillNineLocalDisk(t *testing.T) { testKillNine(t, localLake(t)) }

func TestKillNineMinIO(t *testing.T) { testKillNine(t, minioLake(t)) }

// versitygw checks a conditional PUT differently from MinIO (lake/s3 probes that the
// store refuses a second If-None-Match PUT of one key, probe.go), and
// the ledger's exactly-once rests on that condition.
func TestKillNineVersityGW(t *testing.T) { testKillNine(t, versityLake(t)) }

// testKillNine: gen sends while ingest is killed with SIGKILL and restarted several
// times; after it catches up, verify passes and Bronze holds exactly what gen sent.
func testKillNine(t *testing.T, lk lakeUnderTest) {
	const stream, count = "events", 20000
	broker := devKafka(t, stream, 4)
	g := start(t, "gen", nil, "gen", "--brokers", broker, "--topic", stream, "--count", fmt.Sprint(count),
		"--rate", "5000", "--seed", "3", "--duplicates", "0.02", "--late", "0.02", "--malformed", "0.01")
	ingestArgs := []string{"ingest", "--lake", lk.url, "--brokers", broker, "--topic", stream + "=" + stream,
		"--flush-interval", "150ms", "--instance-id", "replica-1", "--session-timeout", "3s", "--log-level", "warn"}

	store := openLake(t, lk)
	rng := rand.New(rand.NewPCG(1, 2))
	var before int64
	for kill := range 4 {
		p := start(t, fmt.Sprintf("ingest #%d", kill), lk.env, ingestArgs...)
		time.Sleep(time.Duration(400+rng.IntN(700)) * time.Millisecond)
		p.Kill()
		before = ledgerOffsets(t, store, stream)
		t.Logf("after kill %d the ledger holds %d offsets", kill+1, before)
	}
	if before == 0 {
		t.Fatal("the killed ingest processes committed nothing; the test did not kill mid-stream")
	}
	sum := e2e.GenSummary(t, g)
	if sum.Sent != count || sum.Failed != 0 {
		t.Fatalf("gen: sent %d failed %d, want %d sent", sum.Sent, sum.Failed, count)
	}
	last := start(t, "ingest (final)", lk.env, ingestArgs...)
	waitLedger(t, store, stream, sum.Sent, last)
	last.Term(t)

	rep := verify(t, lk.env, "--lake", lk.url, "--stream", stream, "--brokers", broker)
	if rep.KafkaRows != sum.Sent || rep.Rows != sum.Sent {
		t.Errorf("Bronze rows: got %d (kafka %d), want %d as gen sent", rep.Rows, rep.KafkaRows, sum.Sent)
	}
	var compared int64
	for _, p := range rep.Partitions {
		compared += p.BrokerRecords
	}
	if compared != sum.Sent {
		t.Errorf("records compared with the broker: got %d, want %d", compared, sum.Sent)
	}
	// Every file of every ingest process, the restarted ones' included, reads in an
	// independent Parquet reader as the log describes it.
	if fc := footercheck.Check(t, store); fc.PerTable["bronze/"+stream] == 0 {
		t.Errorf("footer check covered no Bronze file: %+v", fc)
	}
}

func openLake(t *testing.T, lk lakeUnderTest) lake.Store {
	t.Helper()
	getenv := func(k string) string {
		for _, kv := range lk.env {
			if len(kv) > len(k) && kv[:len(k)] == k && kv[len(k)] == '=' {
				return kv[len(k)+1:]
			}
		}
		return os.Getenv(k)
	}
	s, err := stores.Open(t.Context(), lk.url, stores.Options{ReadOnly: true, Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
