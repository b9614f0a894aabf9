package silver

import (
	"strings"
	"testing"

	"github.com/lakectl/lakectl/lake"
)

// TestTxnRetentionOnSilverIsRefused: Silver's hour markers are txns, so a table
// property that would expire them must stop the job rather than let an hour be
// processed twice later.
func TestTxnRetentionOnSilverIsRefused(t *testing.T) {
	l := newTestLake(t)
	l.ingest(hour8(), ts("2026-11-21T09:10:00Z"))
	job := l.job()
	if _, err := job.RunHour(t.Context(), "events", hourAt("2026-11-21T08"), RunOptions{}); err != nil {
		t.Fatal(err)
	}
	silver := lake.NewTable(l.store, Root("events"))
	snap, err := silver.Latest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	md := snap.Metadata
	md.Configuration = map[string]string{lake.PropSetTransactionRetention: "interval 1 days"}
	tx := silver.Begin(snap)
	tx.SetMetadata(md)
	tx.Operation("SET TBLPROPERTIES", nil)
	if _, err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}

	_, err = job.RunHour(t.Context(), "events", hourAt("2026-11-21T08"), RunOptions{})
	if err == nil || !strings.Contains(err.Error(), lake.PropSetTransactionRetention) {
		t.Fatalf("run with %s set: err = %v, want a refusal naming the property", lake.PropSetTransactionRetention, err)
	}
}
