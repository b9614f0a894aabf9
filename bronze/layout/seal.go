package layout

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lakectl/lakectl/lake"
)

// DefaultGrace is how long after an hour ends, by every partition's mark, the hour
// counts as sealed. It covers clock skew between replicas and the session timeout in
// which a writer that lost its partitions may still believe it owns them.
const DefaultGrace = 5 * time.Minute

// WatermarkPrefix starts the appId of every sealing mark in a Bronze log. A mark's
// txn version is the Unix millisecond time before which every row of its source is
// committed.
const WatermarkPrefix = "watermark/"

// KafkaAppID is the offset-ledger appId of a Kafka partition.
func KafkaAppID(topic string, partition int32) string {
	return "kafka/" + topic + "/" + strconv.Itoa(int(partition))
}

// HTTPAppID is the ledger appId of HTTP ingest into stream.
func HTTPAppID(stream string) string { return "http/" + stream }

// KafkaWatermarkAppID is the appId of a Kafka partition's sealing mark.
func KafkaWatermarkAppID(topic string, partition int32) string {
	return WatermarkPrefix + KafkaAppID(topic, partition)
}

// HTTPWatermarkAppID is the appId of HTTP ingest's sealing mark for stream.
func HTTPWatermarkAppID(stream string) string { return WatermarkPrefix + HTTPAppID(stream) }

// SealedThrough returns the ingest time before which the Bronze table at snap holds
// all the data it will ever hold, less grace: the earliest sealing mark of every
// Kafka partition and HTTP stream that ever wrote to it, minus grace. ok is false
// when the table has no marks yet (nothing is sealed).
func SealedThrough(snap *lake.Snapshot, grace time.Duration) (t time.Time, ok bool) {
	var low int64
	for _, m := range marks(snap) {
		if !ok || m < low {
			low, ok = m, true
		}
	}
	if !ok {
		return time.Time{}, false
	}
	return time.UnixMilli(low).UTC().Add(-grace), true
}

// IsSealed reports whether ingest hour h of the Bronze table at snap is complete:
// every partition's mark has passed the end of h by at least grace. A job that
// reads a sealed hour reads all of it, and no later commit adds to it.
func IsSealed(snap *lake.Snapshot, h Hour, grace time.Duration) bool {
	t, ok := SealedThrough(snap, grace)
	return ok && !t.Before(h.End())
}

// Mark is one sealing mark, for display.
type Mark struct {
	AppID string    `json:"app_id"`
	Time  time.Time `json:"time"`
}

// Marks lists the sealing marks of snap, sorted by appId.
func Marks(snap *lake.Snapshot) []Mark {
	var out []Mark
	for appID, v := range marks(snap) {
		out = append(out, Mark{AppID: appID, Time: time.UnixMilli(v).UTC()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].AppID < out[j].AppID })
	return out
}

// marks returns every sealing mark of snap (Unix ms) by appId; none for a nil
// snapshot (no table yet).
func marks(snap *lake.Snapshot) map[string]int64 {
	out := map[string]int64{}
	if snap == nil {
		return out
	}
	for appID, v := range snap.Txns() {
		if strings.HasPrefix(appID, WatermarkPrefix) {
			out[appID] = v
		}
	}
	return out
}
