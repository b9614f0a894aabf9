package bronze

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/lake"
)

// The offset ledger lives in the Delta log as txn actions, so it commits atomically
// with the files it describes:
//
//	kafka/<topic>/<partition>            version = next Kafka offset to ingest
//	first/kafka/<topic>/<partition>      version = the first offset ever ingested,
//	                                     written once, so verify notices a lost first file
//	watermark/kafka/<topic>/<partition>  version = unix ms before which every record
//	                                     of that partition is committed
//	http/<stream>                        version = next HTTP sequence number
//	watermark/http/<stream>              version = unix ms, as for Kafka
//	http-producer/<stream>/<producer>    version = the highest X-Lakectl-Seq of that
//	                                     HTTP producer committed (idempotent retries)
//
// A writer only commits a partition's files when the kafka appId still holds the
// offset the files start from, and only when their rows were ingested at or after
// the partition's watermark, so neither a zombie writer nor a late commit can add
// rows twice or into an hour that was already declared sealed.
//
// Only http-producer entries ever expire. Every other entry is exactly-once state
// that must survive any idle time: a partition that is idle or unowned, or a service
// that is stopped, re-writes nothing, and first/ is written once. So Bronze tables
// never set delta.setTransactionRetentionDuration (which expires every appId, and
// which other Delta engines apply when they checkpoint); they set lakectl's prefix
// rule for "http-producer/" (ProducerTxnRetention), and a writer refuses a table
// whose retention could expire anything else (checkTxnRetention).

// KafkaFirstAppID is the appId that records a partition's first ingested offset.
func KafkaFirstAppID(topic string, partition int32) string {
	return "first/" + layout.KafkaAppID(topic, partition)
}

// HTTPProducerAppID is the appId that records the last committed batch sequence
// number of an HTTP producer (the X-Lakectl-Producer and X-Lakectl-Seq headers).
// There is one per producer id, so producers should keep their id for as long as
// they run rather than make one per request; an id unused for ProducerRetention
// expires.
func HTTPProducerAppID(stream, producer string) string {
	return httpProducerPrefix + stream + "/" + producer
}

// httpProducerPrefix starts every HTTPProducerAppID: the only appIds that expire.
const httpProducerPrefix = "http-producer/"

// ProducerRetention is how long a Bronze table remembers an HTTP producer's last
// sequence number after its last commit. A producer's retry of a batch is recognised
// within this window; a producer id unused for longer is forgotten (and a retry
// that late is written again). It matches Kafka's default for idle producer ids.
const ProducerRetention = 7 * 24 * time.Hour

// ProducerTxnRetention is the txn retention of Bronze tables: http-producer
// entries after ProducerRetention, nothing else.
func ProducerTxnRetention() lake.TxnRetention {
	return lake.TxnRetention{Prefixes: []string{httpProducerPrefix}, Prefixed: ProducerRetention}
}

// checkTxnRetention refuses a table whose txn retention could expire an entry other
// than an HTTP producer's: losing the offset ledger, a first offset or a watermark
// would re-ingest records or break sealing.
func checkTxnRetention(snap *lake.Snapshot) error {
	r, err := snap.TxnRetention()
	if err != nil {
		return err
	}
	if r.All > 0 {
		return fmt.Errorf("table property %s would expire the offset ledger; remove it (Bronze expires only %s entries, by %s)",
			lake.PropSetTransactionRetention, httpProducerPrefix, lake.PropTxnRetentionPrefixes)
	}
	for _, p := range r.Prefixes {
		if !strings.HasPrefix(p, httpProducerPrefix) {
			return fmt.Errorf("table property %s: prefix %q could expire ledger entries; only %s entries may expire",
				lake.PropTxnRetentionPrefixes, p, httpProducerPrefix)
		}
	}
	return nil
}

// TopicPartition names a Kafka partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

func (tp TopicPartition) String() string { return tp.Topic + "/" + strconv.Itoa(int(tp.Partition)) }

// parseKafkaAppID splits "kafka/<topic>/<partition>".
func parseKafkaAppID(appID string) (TopicPartition, bool) {
	rest, ok := strings.CutPrefix(appID, "kafka/")
	if !ok {
		return TopicPartition{}, false
	}
	i := strings.LastIndexByte(rest, '/')
	if i <= 0 {
		return TopicPartition{}, false
	}
	p, err := strconv.ParseInt(rest[i+1:], 10, 32)
	if err != nil {
		return TopicPartition{}, false
	}
	return TopicPartition{Topic: rest[:i], Partition: int32(p)}, true
}

// Ledger is the offset ledger of one Bronze table at one snapshot.
type Ledger struct {
	// Next is, per Kafka partition, the next offset to ingest.
	Next map[TopicPartition]int64
	// First is, per Kafka partition, the first offset ever ingested.
	First map[TopicPartition]int64
	// Marks holds every sealing mark (unix ms) by appId.
	Marks map[string]int64
	// HTTPNext is the next HTTP sequence number; 0 when HTTP never wrote.
	HTTPNext int64
	// Producers holds, by appId (HTTPProducerAppID), the last batch sequence
	// number committed for each HTTP producer.
	Producers map[string]int64
}

// ReadLedger extracts the ledger from a snapshot. A nil snapshot (no table yet)
// gives an empty ledger.
func ReadLedger(snap *lake.Snapshot) Ledger {
	l := Ledger{Next: map[TopicPartition]int64{}, First: map[TopicPartition]int64{}, Marks: map[string]int64{},
		Producers: map[string]int64{}}
	if snap == nil {
		return l
	}
	for appID, v := range snap.Txns() {
		switch {
		case strings.HasPrefix(appID, layout.WatermarkPrefix):
			l.Marks[appID] = v
		case strings.HasPrefix(appID, "first/kafka/"):
			if tp, ok := parseKafkaAppID(strings.TrimPrefix(appID, "first/")); ok {
				l.First[tp] = v
			}
		case strings.HasPrefix(appID, "kafka/"):
			if tp, ok := parseKafkaAppID(appID); ok {
				l.Next[tp] = v
			}
		case strings.HasPrefix(appID, httpProducerPrefix):
			l.Producers[appID] = v
		case strings.HasPrefix(appID, "http/"):
			l.HTTPNext = max(l.HTTPNext, v)
		}
	}
	return l
}

// position is what a writer believes the ledger holds for a partition: the offset
// its buffered records continue from, or none when it started without a ledger entry.
type position struct {
	Offset int64
	Known  bool
}

func (p position) String() string {
	if !p.Known {
		return "none"
	}
	return strconv.FormatInt(p.Offset, 10)
}

// ledgerPosition reads a partition's position from a snapshot.
func ledgerPosition(snap *lake.Snapshot, tp TopicPartition) position {
	if snap == nil {
		return position{}
	}
	v, ok := snap.TxnVersion(layout.KafkaAppID(tp.Topic, tp.Partition))
	return position{Offset: v, Known: ok}
}

// mark reads a sealing mark from a snapshot, 0 when absent.
func mark(snap *lake.Snapshot, appID string) int64 {
	if snap == nil {
		return 0
	}
	v, _ := snap.TxnVersion(appID)
	return v
}
