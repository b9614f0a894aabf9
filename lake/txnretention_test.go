package lake_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/deltatest"
	"github.com/lakectl/lakectl/lake/mem"
)

func TestParseInterval(t *testing.T) {
	day := 24 * time.Hour
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"interval 7 days", 7 * day},
		{"INTERVAL 1 WEEK", 7 * day},
		{"interval 1 day 12 hours", day + 12*time.Hour},
		{"30 minutes", 30 * time.Minute},
		{"interval 90 seconds", 90 * time.Second},
	} {
		got, err := lake.ParseInterval(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseInterval(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "interval", "interval 7", "interval 1 month", "interval x days", "interval 0 days", "7d"} {
		if got, err := lake.ParseInterval(bad); err == nil {
			t.Errorf("ParseInterval(%q) = %v, want an error", bad, got)
		}
	}
	for _, d := range []time.Duration{7 * day, 36 * time.Hour, 90 * time.Second, 1500 * time.Millisecond} {
		if got, err := lake.ParseInterval(lake.FormatInterval(d)); err != nil || got != d {
			t.Errorf("ParseInterval(FormatInterval(%v)) = %v, %v", d, got, err)
		}
	}
}

// retentionTable creates a table with conf at c's time, checkpointing every 10.
func retentionTable(t *testing.T, c *clock, conf map[string]string) (*lake.Table, *mem.Store) {
	t.Helper()
	store := mem.New()
	tbl := lake.NewTable(store, "t", lake.WithClock(c.Now))
	md := deltatest.Metadata()
	md.Configuration = conf
	tx := tbl.Begin(nil)
	tx.SetMetadata(md)
	if _, err := tx.Commit(t.Context()); err != nil {
		t.Fatalf("create: %v", err)
	}
	return tbl, store
}

// commitTxns commits txns (and one file, so each commit differs) at c's time.
func commitTxns(t *testing.T, tbl *lake.Table, seq int, txns map[string]int64) int64 {
	t.Helper()
	tx := tbl.Begin(latest(t, tbl))
	tx.Add(deltatest.FileAdd("w", seq, "x"))
	for id, v := range txns {
		tx.SetTxn(id, v)
	}
	v, err := tx.Commit(t.Context())
	if err != nil {
		t.Fatalf("commit %d: %v", seq, err)
	}
	return v
}

// checkpointTxns returns the appIds in a checkpoint file.
func checkpointTxns(t *testing.T, store *mem.Store, version int64) []string {
	t.Helper()
	data, err := lake.ReadAll(t.Context(), store, fmt.Sprintf("t/_delta_log/%020d.checkpoint.parquet", version))
	if err != nil {
		t.Fatalf("read checkpoint v%d: %v", version, err)
	}
	type row struct {
		Txn *struct {
			AppID       string `parquet:"appId"`
			LastUpdated *int64 `parquet:"lastUpdated,optional"`
		} `parquet:"txn,optional"`
	}
	rows, err := parquet.Read[row](bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("decode checkpoint v%d: %v", version, err)
	}
	var ids []string
	for _, r := range rows {
		if r.Txn != nil {
			if r.Txn.LastUpdated == nil {
				t.Errorf("checkpoint v%d: txn %s has no lastUpdated", version, r.Txn.AppID)
			}
			ids = append(ids, r.Txn.AppID)
		}
	}
	slices.Sort(ids)
	return ids
}

func appIDs(s *lake.Snapshot) []string {
	var ids []string
	for id := range s.Txns() {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// The prefix rule expires idle producer entries from snapshots and checkpoints, and
// never the ledger or marker entries, however long they go without a re-write.
func TestTxnRetentionExpiresOnlyPrefixedEntries(t *testing.T) {
	day := 24 * time.Hour
	c := &clock{now: t0}
	conf := map[string]string{}
	lake.TxnRetention{Prefixes: []string{"http-producer/"}, Prefixed: 7 * day}.Configure(conf)
	if got := conf[lake.PropTxnRetentionDuration]; got != "interval 7 days" {
		t.Fatalf("Configure wrote duration %q, want %q", got, "interval 7 days")
	}
	tbl, store := retentionTable(t, c, conf)

	// v1: a producer, and entries that are written once and must never expire.
	kept := []string{"first/kafka/e/0", "kafka/e/0", "silver/events/2026-11-01T08", "watermark/kafka/e/0"}
	commitTxns(t, tbl, 1, map[string]int64{"http-producer/e/old": 5, "kafka/e/0": 100,
		"first/kafka/e/0": 0, "watermark/kafka/e/0": t0.UnixMilli(), "silver/events/2026-11-01T08": 3})
	// v2, three days later: another producer.
	c.now = t0.Add(3 * day)
	commitTxns(t, tbl, 2, map[string]int64{"http-producer/e/new": 1})
	// v3..v10, eight days in: unrelated commits; v10 is checkpointed.
	c.now = t0.Add(8 * day)
	for seq := 3; seq <= 10; seq++ {
		commitTxns(t, tbl, seq, nil)
	}

	want := append([]string{"http-producer/e/new"}, kept...)
	slices.Sort(want)
	if got := appIDs(latest(t, tbl)); !slices.Equal(got, want) {
		t.Errorf("snapshot v10 txns = %v, want %v", got, want)
	}
	if got := checkpointTxns(t, store, 10); !slices.Equal(got, want) {
		t.Errorf("checkpoint v10 txns = %v, want %v", got, want)
	}
	// A version keeps its content: at v2 (day 3) the old producer was still alive.
	old, err := tbl.At(t.Context(), 2)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := old.TxnVersion("http-producer/e/old"); !ok || v != 5 {
		t.Errorf("v2: http-producer/e/old = %d, %v; want 5, true", v, ok)
	}

	// Day 30: both producers are gone, from the JSON replay after the checkpoint and
	// from the next checkpoint; the rest is still there.
	c.now = t0.Add(30 * day)
	for seq := 11; seq <= 20; seq++ {
		commitTxns(t, tbl, seq, nil)
	}
	if got := appIDs(latest(t, tbl)); !slices.Equal(got, kept) {
		t.Errorf("snapshot v20 txns = %v, want %v", got, kept)
	}
	if got := checkpointTxns(t, store, 20); !slices.Equal(got, kept) {
		t.Errorf("checkpoint v20 txns = %v, want %v", got, kept)
	}
	// Re-writing an expired producer starts it afresh.
	commitTxns(t, tbl, 21, map[string]int64{"http-producer/e/old": 6})
	if v, ok := latest(t, tbl).TxnVersion("http-producer/e/old"); !ok || v != 6 {
		t.Errorf("re-written http-producer/e/old = %d, %v; want 6, true", v, ok)
	}
}

// delta.setTransactionRetentionDuration expires every appId: the reason Bronze
// and Silver tables never set it.
func TestDeltaTxnRetentionExpiresEverything(t *testing.T) {
	c := &clock{now: t0}
	tbl, _ := retentionTable(t, c, map[string]string{lake.PropSetTransactionRetention: "interval 1 day"})
	commitTxns(t, tbl, 1, map[string]int64{"kafka/e/0": 100, "silver/events/2026-11-01T08": 3})
	c.now = t0.Add(36 * time.Hour)
	commitTxns(t, tbl, 2, map[string]int64{"kafka/e/1": 7})
	if got, want := appIDs(latest(t, tbl)), []string{"kafka/e/1"}; !slices.Equal(got, want) {
		t.Errorf("txns = %v, want %v", got, want)
	}
}

// lakectl writes lastUpdated, the commit's own timestamp, on every txn it commits.
func TestTxnsCarryLastUpdated(t *testing.T) {
	c := &clock{now: t0}
	tbl, store := retentionTable(t, c, nil)
	commitTxns(t, tbl, 1, map[string]int64{"a": 1})
	data, err := lake.ReadAll(t.Context(), store, "t/_delta_log/00000000000000000001.json")
	if err != nil {
		t.Fatal(err)
	}
	var stamp, updated int64
	for line := range strings.Lines(string(data)) {
		var a lake.Action
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatal(err)
		}
		switch {
		case a.CommitInfo != nil:
			f, _ := (*a.CommitInfo)["timestamp"].(float64)
			stamp = int64(f)
		case a.Txn != nil && a.Txn.LastUpdated != nil:
			updated = *a.Txn.LastUpdated
		}
	}
	if updated == 0 || updated != stamp {
		t.Errorf("txn lastUpdated = %d, want the commit timestamp %d:\n%s", updated, stamp, data)
	}
}

// A malformed retention is refused at commit, and a table that has one (written by
// another engine) stays readable and expires nothing.
func TestMalformedTxnRetention(t *testing.T) {
	for _, conf := range []map[string]string{
		{lake.PropSetTransactionRetention: "a week"},
		{lake.PropTxnRetentionPrefixes: "http-producer/"},
		{lake.PropTxnRetentionPrefixes: "http-producer/,", lake.PropTxnRetentionDuration: "interval 1 day"},
	} {
		tbl := lake.NewTable(mem.New(), "t")
		md := deltatest.Metadata()
		md.Configuration = conf
		tx := tbl.Begin(nil)
		tx.SetMetadata(md)
		if _, err := tx.Commit(t.Context()); err == nil {
			t.Errorf("commit with %v succeeded, want an error", conf)
		}
	}

	store := mem.New()
	tbl := lake.NewTable(store, "t", lake.WithClock(func() time.Time { return t0 }))
	if err := deltatest.Create(t.Context(), tbl); err != nil {
		t.Fatal(err)
	}
	commitTxns(t, tbl, 1, map[string]int64{"a": 1})
	foreign := fmt.Sprintf(`{"commitInfo":{"timestamp":%d}}
{"metaData":{"id":"x","format":{"provider":"parquet","options":{}},"schemaString":%q,"partitionColumns":["p"],"configuration":{%q:"soon"}}}
`, t0.Add(30*24*time.Hour).UnixMilli(), deltatest.Metadata().SchemaString, lake.PropSetTransactionRetention)
	if err := store.PutIfAbsent(t.Context(), "t/_delta_log/00000000000000000002.json", []byte(foreign)); err != nil {
		t.Fatal(err)
	}
	s := latest(t, tbl)
	if _, ok := s.TxnVersion("a"); !ok {
		t.Error("a malformed retention expired txn a")
	}
	if _, err := s.TxnRetention(); err == nil {
		t.Error("Snapshot.TxnRetention of a malformed property: no error")
	}
}
