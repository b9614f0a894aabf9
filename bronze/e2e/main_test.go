// Package e2e runs Bronze ingest end to end through real processes: the lakectl
// binary as `dev kafka`, `gen`, `ingest` (killed with SIGKILL and restarted, run as
// several replicas, stopped with SIGTERM, or left running while MinIO or the broker is
// frozen or restarted) and `verify bronze`, against a local-disk lake and real S3
// servers (MinIO, versitygw), plus concurrent HTTP clients.
package e2e

import (
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/lakectl/lakectl/bronze"
	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/internal/e2e"
	"github.com/lakectl/lakectl/lake"
)

var lakectl e2e.Binary

func TestMain(m *testing.M) { os.Exit(e2e.Main(m, &lakectl)) }

// start runs one lakectl process (see e2e.Binary.Start).
func start(t *testing.T, name string, env []string, args ...string) *e2e.Proc {
	t.Helper()
	return lakectl.Start(t, name, env, args...)
}

func devKafka(t *testing.T, topic string, partitions int) string {
	t.Helper()
	return lakectl.DevKafka(t, topic, partitions)
}

// verify runs `lakectl verify bronze` and returns its report; it fails the test on
// a non-zero exit.
func verify(t *testing.T, env []string, args ...string) bronze.VerifyReport {
	t.Helper()
	p := start(t, "verify", env, append([]string{"verify", "bronze"}, args...)...)
	p.Wait(t)
	var rep bronze.VerifyReport
	if err := json.Unmarshal([]byte(p.Stdout.String()), &rep); err != nil {
		t.Fatalf("verify output %q (stderr %s): %v", p.Stdout.String(), p.Stderr.String(), err)
	}
	if p.Err() != nil {
		t.Fatalf("verify bronze failed (%v): problems %v", p.Err(), rep.Problems)
	}
	return rep
}

// ledgerOffsets sums the ledger's next offsets (topics start at offset 0).
func ledgerOffsets(t *testing.T, store lake.Store, stream string) int64 {
	t.Helper()
	snap, err := lake.NewTable(store, layout.TableRoot(stream)).Latest(t.Context())
	if errors.Is(err, lake.ErrNoTable) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, v := range bronze.ReadLedger(snap).Next {
		n += v
	}
	return n
}

// waitLedger polls the lake until the ledger's offsets add up to want.
func waitLedger(t *testing.T, store lake.Store, stream string, want int64, alive ...*e2e.Proc) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	var got int64
	for time.Now().Before(deadline) {
		got = ledgerOffsets(t, store, stream)
		if got >= want {
			if got > want {
				t.Fatalf("ledger holds %d offsets, more than the %d sent", got, want)
			}
			return
		}
		for _, p := range alive {
			if p.Exited() {
				t.Fatalf("%s exited early: %v\n%s", p.Name, p.Err(), e2e.Tail(p.Stderr.String(), 3000))
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("ledger reached %d of %d offsets", got, want)
}
