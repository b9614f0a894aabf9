package lake

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Txn retention: which txn entries a snapshot forgets.
//
// A txn entry is kept forever unless the table says otherwise, because most appIds
// are exactly-once state that must outlive any idle period: a Kafka partition's
// offset ledger (an idle or unassigned partition, or a stopped service, re-writes
// nothing), the first offset of a partition and a Silver hour's marker (both written
// once), the sealing watermarks. If one of those expired, a restart would re-ingest
// from the group's offsets and a re-run of an hour would write it again.
//
// Two table properties expire entries; an entry expires when its lastUpdated is
// older than the retention, counted back from the snapshot's own commit time:
//
//   - delta.setTransactionRetentionDuration (the Delta protocol's, e.g.
//     "interval 7 days") expires every appId. Other Delta engines honour it when they
//     checkpoint, so it is only for tables whose txns are all disposable; lakectl's
//     Bronze refuses to write to a table that sets it.
//   - lakectl.txnRetention.prefixes (comma-separated appId prefixes, e.g.
//     "http-producer/") with lakectl.txnRetention.duration (same syntax) expires only
//     the appIds that start with one of the prefixes. Other engines ignore it and keep
//     everything, which is the safe side. Bronze sets it for its HTTP producer
//     entries, whose ids are made per producer process and would otherwise pile up
//     in every snapshot and checkpoint.
//
// Counting from the snapshot's commit time rather than the reader's clock keeps a
// version's content fixed: time travel to a version and a checkpoint rewritten later
// agree, and a table that nobody writes expires nothing (a snapshot that is exactly
// a checkpoint keeps the checkpoint's txns as written). Entries without lastUpdated
// (written by other engines) never expire. The newest entry of an appId is the one
// judged, so re-writing an appId in any commit renews it.
const (
	PropSetTransactionRetention = "delta.setTransactionRetentionDuration"
	PropTxnRetentionPrefixes    = "lakectl.txnRetention.prefixes"
	PropTxnRetentionDuration    = "lakectl.txnRetention.duration"
)

// TxnRetention is a table's rule for expiring txn entries (see the properties above).
// The zero value expires nothing.
type TxnRetention struct {
	// All is delta.setTransactionRetentionDuration; 0 when unset.
	All time.Duration
	// Prefixes and Prefixed are lakectl.txnRetention.prefixes and .duration.
	Prefixes []string
	Prefixed time.Duration
}

// ParseTxnRetention reads the txn retention from a table's configuration. A malformed
// value is an error: commits refuse to write one, and a snapshot of a table that has
// one (written by someone else) expires nothing, the side that is always safe.
func ParseTxnRetention(conf map[string]string) (TxnRetention, error) {
	var r TxnRetention
	var err error
	if v, ok := conf[PropSetTransactionRetention]; ok {
		if r.All, err = ParseInterval(v); err != nil {
			return TxnRetention{}, fmt.Errorf("table property %s: %w", PropSetTransactionRetention, err)
		}
	}
	prefixes, hasPrefixes := conf[PropTxnRetentionPrefixes]
	dur, hasDur := conf[PropTxnRetentionDuration]
	if hasPrefixes != hasDur {
		return TxnRetention{}, fmt.Errorf("table properties %s and %s must be set together",
			PropTxnRetentionPrefixes, PropTxnRetentionDuration)
	}
	if !hasPrefixes {
		return r, nil
	}
	if r.Prefixed, err = ParseInterval(dur); err != nil {
		return TxnRetention{}, fmt.Errorf("table property %s: %w", PropTxnRetentionDuration, err)
	}
	for p := range strings.SplitSeq(prefixes, ",") {
		if p = strings.TrimSpace(p); p == "" {
			return TxnRetention{}, fmt.Errorf("table property %s: empty prefix in %q (it would expire every appId)",
				PropTxnRetentionPrefixes, prefixes)
		}
		r.Prefixes = append(r.Prefixes, p)
	}
	return r, nil
}

// Configure writes the lakectl prefix rule into conf (a table's configuration).
func (r TxnRetention) Configure(conf map[string]string) {
	conf[PropTxnRetentionPrefixes] = strings.Join(r.Prefixes, ",")
	conf[PropTxnRetentionDuration] = FormatInterval(r.Prefixed)
}

// Expires returns how long an entry of appID lives without being re-written, and
// false when it never expires. When both rules apply, the shorter wins.
func (r TxnRetention) Expires(appID string) (time.Duration, bool) {
	d, ok := r.All, r.All > 0
	if r.Prefixed > 0 {
		for _, p := range r.Prefixes {
			if strings.HasPrefix(appID, p) {
				if !ok || r.Prefixed < d {
					d, ok = r.Prefixed, true
				}
				break
			}
		}
	}
	return d, ok
}

// expireTxns drops the entries that r expires as of at (the snapshot's commit time).
func (s *state) expireTxns(r TxnRetention, at time.Time) {
	if r.All <= 0 && r.Prefixed <= 0 {
		return
	}
	for id, tx := range s.txns {
		if tx.LastUpdated == nil {
			continue
		}
		if d, ok := r.Expires(id); ok && *tx.LastUpdated < at.Add(-d).UnixMilli() {
			delete(s.txns, id)
		}
	}
}

// intervalUnits are the units of Delta's interval strings that a retention uses.
var intervalUnits = map[string]time.Duration{
	"millisecond": time.Millisecond,
	"second":      time.Second,
	"minute":      time.Minute,
	"hour":        time.Hour,
	"day":         24 * time.Hour,
	"week":        7 * 24 * time.Hour,
}

// ParseInterval parses a Delta table property interval such as "interval 7 days" or
// "interval 1 day 12 hours" (the leading "interval" is optional). Months and years
// are refused: their length is not fixed.
func ParseInterval(s string) (time.Duration, error) {
	f := strings.Fields(strings.ToLower(s))
	if len(f) > 0 && f[0] == "interval" {
		f = f[1:]
	}
	if len(f) == 0 || len(f)%2 != 0 {
		return 0, fmt.Errorf("interval %q: want \"interval <n> <unit> ...\"", s)
	}
	var total time.Duration
	for i := 0; i < len(f); i += 2 {
		n, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("interval %q: %q is not a count", s, f[i])
		}
		unit, ok := intervalUnits[strings.TrimSuffix(f[i+1], "s")]
		if !ok {
			return 0, fmt.Errorf("interval %q: unknown unit %q", s, f[i+1])
		}
		total += time.Duration(n) * unit
	}
	if total <= 0 {
		return 0, fmt.Errorf("interval %q: must be positive", s)
	}
	return total, nil
}

// FormatInterval writes d as a Delta interval string, in the largest whole unit.
func FormatInterval(d time.Duration) string {
	for _, u := range []string{"day", "hour", "minute", "second"} {
		if n := intervalUnits[u]; d%n == 0 {
			return fmt.Sprintf("interval %d %ss", d/n, u)
		}
	}
	return fmt.Sprintf("interval %d milliseconds", d/time.Millisecond)
}
