package serve

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestFreshnessByEventTime: the served lake's newest event happened at 09:20 on the
// 20th, and Bronze is sealed through 06:00 on the 21st. The views reflect the events
// through 09:20 (event time), not through the sealing mark (ingest time): the
// freshness headers, /v1/status (which keeps the ingest mark beside it) and /metrics
// say so, at a clock of 07:00 on the 21st.
func TestFreshnessByEventTime(t *testing.T) {
	now := time.Date(2026, 11, 21, 7, 0, 0, 0, time.UTC)
	_, srv := servedLakeWith(t, HandlerConfig{Now: func() time.Time { return now }})
	resp, body := get(t, srv.URL+"/v1/views/hourly_trends")
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %s", resp.Status, body)
	}
	if got, fresh := resp.Header.Get("Lakectl-Reflects-Through"), resp.Header.Get("Lakectl-Freshness"); got != "2026-11-20T09:20:00Z" || fresh != "78000" {
		t.Errorf("Lakectl-Reflects-Through %s, Lakectl-Freshness %s; want 2026-11-20T09:20:00Z, the newest event, and 78000 (21h40m)", got, fresh)
	}

	_, body = get(t, srv.URL+"/v1/status")
	var st Status
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatal(err)
	}
	for _, v := range st.Views {
		if v.Name != "hourly_trends" {
			continue
		}
		last := v.Refreshes[len(v.Refreshes)-1]
		if !last.Through.Equal(time.Date(2026, 11, 20, 9, 20, 0, 0, time.UTC)) || !last.Ingested.Equal(time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)) {
			t.Errorf("status of hourly_trends: through %v, ingested through %v; want 09:20 on the 20th and the sealing mark, 06:00 on the 21st", last.Through, last.Ingested)
		}
	}
	fresh := map[string]time.Duration{}
	for _, c := range st.Consumers {
		fresh[c.Name] = c.Freshness
	}
	if fresh["product"] != 21*time.Hour+40*time.Minute || fresh["finance"] != 7*time.Hour {
		t.Errorf("status: freshness %v; want product 21h40m (views since 09:20 on the 20th), finance 7h (Gold's day 2026-11-20)", fresh)
	}

	_, body = get(t, srv.URL+"/metrics")
	if want := `lakectl_serve_consumer_freshness_seconds{consumer="product"} 78000`; !strings.Contains(string(body), want) {
		t.Errorf("/metrics lacks %s:\n%s", want, body)
	}
}
