package bronze

import (
	"fmt"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/mem"
)

func TestKafkaIngestWritesEveryRecordOnce(t *testing.T) {
	b := startBroker(t, map[string]int32{"clicks": 3})
	store := mem.New()
	produce(t, b.Addr(), "clicks", "a", 3000)

	_, stop := runService(t, Config{
		Store: store, Brokers: []string{b.Addr()}, Topics: map[string]string{"clicks": "clicks"},
		FlushInterval: 200 * time.Millisecond,
	})
	waitFor(t, "the ledger to reach 3000", func() bool { return ledgerTotal(t, store, "clicks") == 3000 })
	produce(t, b.Addr(), "clicks", "b", 1000)
	waitFor(t, "the ledger to reach 4000", func() bool { return ledgerTotal(t, store, "clicks") == 4000 })
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}

	rep, err := Verify(t.Context(), VerifyConfig{Store: store, Stream: "clicks", Brokers: []string{b.Addr()}})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || rep.KafkaRows != 4000 {
		t.Fatalf("verify: ok=%v rows=%d problems=%v", rep.OK, rep.KafkaRows, rep.Problems)
	}
	var broker int64
	for _, p := range rep.Partitions {
		broker += p.BrokerRecords
	}
	if broker != 4000 {
		t.Errorf("broker records compared: got %d, want 4000", broker)
	}
}

func TestKafkaRowsAreExactlyAsReceived(t *testing.T) {
	b := startBroker(t, map[string]int32{"raw": 1})
	store := mem.New()
	produce(t, b.Addr(), "raw", "x", 10)
	_, stop := runService(t, Config{
		Store: store, Brokers: []string{b.Addr()}, Topics: map[string]string{"raw": "raw_events"},
		FlushInterval: 100 * time.Millisecond,
	})
	waitFor(t, "10 rows", func() bool { return ledgerTotal(t, store, "raw_events") == 10 })
	stop()

	table := lake.NewTable(store, layout.TableRoot("raw_events"))
	snap, err := table.Latest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got := snap.Metadata.PartitionColumns; len(got) != 2 || got[0] != layout.ColIngestDate || got[1] != layout.ColIngestHour {
		t.Errorf("partition columns: got %v", got)
	}
	var rows []Row
	for _, a := range snap.Files() {
		rs, err := ReadRows(t.Context(), table, a)
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, rs...)
		hour := a.PartitionValues[layout.ColIngestHour]
		if hour == nil {
			t.Fatalf("%s: no ingest_hour", a.Path)
		}
		for _, r := range rs {
			if want := fmt.Sprint(time.UnixMicro(r.IngestedAt).UTC().Hour()); *hour != want {
				t.Errorf("%s: ingest_hour %s, row ingested at hour %s", a.Path, *hour, want)
			}
		}
	}
	if len(rows) != 10 {
		t.Fatalf("rows: got %d, want 10", len(rows))
	}
	seen := map[int64]bool{}
	for _, r := range rows {
		want := fmt.Sprintf(`{"x":%d}`, r.Offset)
		if string(r.Payload) != want {
			t.Errorf("offset %d: payload %q, want %q", r.Offset, r.Payload, want)
		}
		if r.Source != SourceKafka || r.Topic != "raw" || r.Partition != 0 {
			t.Errorf("offset %d: source %q topic %q partition %d", r.Offset, r.Source, r.Topic, r.Partition)
		}
		if string(r.Key) != fmt.Sprintf("k%d", r.Offset%17) {
			t.Errorf("offset %d: key %q", r.Offset, r.Key)
		}
		if len(r.Headers) != 1 || r.Headers[0].Key != "h" || string(r.Headers[0].Value) != "v" {
			t.Errorf("offset %d: headers %+v", r.Offset, r.Headers)
		}
		if r.SourceTimestamp == 0 || r.IngestedAt < r.SourceTimestamp {
			t.Errorf("offset %d: source_timestamp %d ingested_at %d", r.Offset, r.SourceTimestamp, r.IngestedAt)
		}
		seen[r.Offset] = true
	}
	if len(seen) != 10 {
		t.Errorf("distinct offsets: got %d, want 10", len(seen))
	}
}

func TestMetricsServeKafkaClientMetrics(t *testing.T) {
	b := startBroker(t, map[string]int32{"clicks": 2})
	store := mem.New()
	produce(t, b.Addr(), "clicks", "a", 500)
	reg := prometheus.NewRegistry()
	svc, stop := runService(t, Config{
		Store: store, Brokers: []string{b.Addr()}, Topics: map[string]string{"clicks": "clicks"},
		FlushInterval: 100 * time.Millisecond, Registerer: reg,
	})
	waitFor(t, "the ledger to reach 500", func() bool { return ledgerTotal(t, store, "clicks") == 500 })
	rec := httptest.NewRecorder()
	svc.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		"lakectl_kafka_connects_total{",
		`lakectl_bronze_records_total{source="kafka",stream="clicks"} 500`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// franz-go's own count, through kprom.
	if !regexp.MustCompile(`(?m)^lakectl_kafka_fetch_records_total\{[^}]*topic="clicks"\} 500$`).MatchString(body) {
		t.Errorf("/metrics lacks lakectl_kafka_fetch_records_total of 500 for topic clicks")
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
