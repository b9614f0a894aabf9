package bronze

import (
	"net/http"
	"testing"
	"time"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/mem"
)

// A stream that is not listed in HTTPConfig.Streams, once it has received events,
// gets its mark advanced while idle at the same seal points as Kafka partitions
// (each hour boundary, and once the grace after it has passed), so its idle table
// seals the hour that just ended without waiting for the next request or an hour.
func TestIdleUnlistedHTTPStreamSealsAfterGrace(t *testing.T) {
	store := mem.New()
	const grace = time.Second
	// The service's clock reads 100 ms past an hour boundary: the previous hour
	// seals once the stream's mark passes the boundary plus grace.
	boundary := layout.HourOf(time.Now()).End()
	offset := time.Until(boundary.Add(100 * time.Millisecond))
	now := func() time.Time { return time.Now().Add(offset) }
	s, _ := runService(t, Config{Store: store, HTTPAddr: "127.0.0.1:0", Graces: layout.Graces{Default: grace}, Now: now,
		Compact: CompactConfig{Off: true}})
	if code, resp := post(t, "http://"+s.Addr()+"/v1/streams/quiet/events", "", `{"a":1}`+"\n"); code != http.StatusOK {
		t.Fatalf("POST: %d %s", code, resp)
	}
	prev := layout.HourOf(boundary.Add(-time.Hour))
	table := lake.NewTable(store, layout.TableRoot("quiet"))
	waitFor(t, "the idle stream's mark to seal hour "+prev.String(), func() bool {
		snap, err := table.Latest(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return layout.IsSealed(snap, prev, grace)
	})
}
