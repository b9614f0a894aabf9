package bronze

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/mem"
	"github.com/prometheus/client_golang/prometheus"
)

// postWith sends body with the given headers and returns the status and answer.
func postWith(t *testing.T, url string, headers map[string]string, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// series counts the series of vec.
func series(vec prometheus.Collector) int {
	ch := make(chan prometheus.Metric, 1<<10)
	vec.Collect(ch)
	close(ch)
	return len(ch)
}

// tables lists the Bronze tables in store.
func tables(t *testing.T, store lake.Store) []string {
	t.Helper()
	got, err := Streams(t.Context(), store)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestHTTPSeqHasOneSpellingAndABound(t *testing.T) {
	store := mem.New()
	s, _ := runService(t, Config{Store: store, HTTPAddr: "127.0.0.1:0"})
	url := "http://" + s.Addr() + "/v1/streams/web/events"
	tests := []struct {
		seq  string
		want int
	}{
		{"+5", http.StatusBadRequest},
		{"05", http.StatusBadRequest},
		{"0", http.StatusBadRequest},
		{"-1", http.StatusBadRequest},
		{"5x", http.StatusBadRequest},
		{"5.0", http.StatusBadRequest},
		{"1e3", http.StatusBadRequest},
		{"0x10", http.StatusBadRequest},
		{"1_000", http.StatusBadRequest},
		{"9223372036854775807", http.StatusBadRequest}, // would lock the producer out
		{"9007199254740993", http.StatusBadRequest},    // MaxSeq+1
		{"99999999999999999999", http.StatusBadRequest},
		{"5", http.StatusOK},
		{"9007199254740992", http.StatusOK}, // MaxSeq
	}
	for i, tc := range tests {
		t.Run(tc.seq, func(t *testing.T) {
			code, body := postWith(t, url, map[string]string{HeaderProducer: fmt.Sprint("p", i), HeaderSeq: tc.seq}, "{}\n")
			if code != tc.want {
				t.Fatalf("%s: %q: got %d, want %d (%s)", HeaderSeq, tc.seq, code, tc.want, body)
			}
			if code == http.StatusBadRequest && !strings.Contains(body, "from 1 to 9007199254740992") {
				t.Errorf("answer %s does not say which numbers are accepted", body)
			}
		})
	}
	snap, err := lake.NewTable(store, layout.TableRoot("web")).Latest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := snap.TxnVersion(layout.HTTPAppID("web")); n != 2 {
		t.Errorf("HTTP ledger: got %d events, want the 2 of the accepted requests", n)
	}
}

func TestHTTPAcceptsOnlyStreamNamesThePipelineCouldDeclare(t *testing.T) {
	store := mem.New()
	s, _ := runService(t, Config{Store: store, HTTPAddr: "127.0.0.1:0"}) // --lake mode: no stream list
	base := "http://" + s.Addr() + "/v1/streams/"
	for _, name := range []string{"a-b", "1abc", "Events", "_x", "events.eu", strings.Repeat("a", 129)} {
		code, body := post(t, base+name+"/events", "", "{}\n")
		if code != http.StatusNotFound || !strings.Contains(body, "lower-case letters, digits and _, starting with a letter") {
			t.Errorf("stream %q: got %d %s, want 404 naming the rule", name, code, body)
		}
	}
	if code, body := post(t, base+"events_eu2/events", "", "{}\n"); code != http.StatusOK {
		t.Fatalf("stream events_eu2: got %d %s, want 200", code, body)
	}
	if got := tables(t, store); len(got) != 1 || got[0] != "events_eu2" {
		t.Errorf("Bronze tables: got %v, want [events_eu2]", got)
	}
	if _, err := New(Config{Store: store, HTTPAddr: "127.0.0.1:0", HTTP: HTTPConfig{Streams: []string{"a-b"}}}); err == nil {
		t.Error("New with HTTP stream a-b: no error")
	}
	if _, err := New(Config{Store: store, Brokers: []string{"127.0.0.1:1"}, Topics: map[string]string{"raw-events": "raw-events"}}); err == nil ||
		!strings.Contains(err.Error(), "--topic raw-events=NAME") {
		t.Errorf("New with Kafka stream raw-events: got %v, want an error that says how to map the topic", err)
	}
}

func TestHTTPRequestSeriesAreBounded(t *testing.T) {
	store := mem.New()
	s, _ := runService(t, Config{Store: store, HTTPAddr: "127.0.0.1:0", HTTP: HTTPConfig{Token: "sesame"}})
	base := "http://" + s.Addr() + "/v1/streams/"
	name := func() string { return fmt.Sprintf("s%08d", rand.IntN(1e8)) }
	for range 50 {
		if code, _ := post(t, base+name()+"/events", "", "{}\n"); code != http.StatusUnauthorized {
			t.Fatalf("no token: got %d, want 401", code)
		}
		if code, _ := post(t, base+name()+"-x/events", "sesame", "{}\n"); code != http.StatusNotFound {
			t.Fatalf("invalid name: got %d, want 404", code)
		}
		bad := map[string]string{"Authorization": "Bearer sesame", HeaderProducer: "p", HeaderSeq: "+1"}
		if code, _ := postWith(t, base+name()+"/events", bad, "{}\n"); code != http.StatusBadRequest {
			t.Fatalf("bad seq: got %d, want 400", code)
		}
		if code, _ := post(t, base+name()+"/events", "sesame", "\n"); code != http.StatusBadRequest {
			t.Fatalf("no events: got %d, want 400", code)
		}
	}
	if n := series(s.Metrics().HTTPRequests); n != 3 {
		t.Errorf("request series after 200 refused requests to random streams: got %d, want 3 (stream %q by code 400, 401, 404)", n, "_unknown")
	}
	if code, body := post(t, base+"web/events", "sesame", "{}\n"); code != http.StatusOK {
		t.Fatalf("stream web: got %d %s", code, body)
	}
	if n := series(s.Metrics().HTTPRequests); n != 4 {
		t.Errorf("request series after a request to stream web: got %d, want 4", n)
	}
	if got := tables(t, store); len(got) != 1 || got[0] != "web" {
		t.Errorf("Bronze tables: got %v, want [web]: refused requests create none", got)
	}
}

func TestHTTPTokenCheck(t *testing.T) {
	store := mem.New()
	s, _ := runService(t, Config{Store: store, HTTPAddr: "127.0.0.1:0", HTTP: HTTPConfig{Token: "sesame"}})
	url := "http://" + s.Addr() + "/v1/streams/web/events"
	tests := []struct {
		auth string
		want int
	}{
		{"Bearer sesame", http.StatusOK},
		{"bearer sesame", http.StatusOK}, // the scheme is case-insensitive (RFC 9110 11.1)
		{"BEARER sesame", http.StatusOK},
		{"", http.StatusUnauthorized},
		{"sesame", http.StatusUnauthorized},
		{"Basic sesame", http.StatusUnauthorized},
		{"Bearer sesam", http.StatusUnauthorized},
		{"Bearer sesame2", http.StatusUnauthorized},
		{"Bearer Sesame", http.StatusUnauthorized},
		{"Bearer  sesame", http.StatusOK}, // 1*SP
		{"Bearer", http.StatusUnauthorized},
	}
	for _, tc := range tests {
		code, body := postWith(t, url, map[string]string{"Authorization": tc.auth}, "{}\n")
		if code != tc.want {
			t.Errorf("Authorization %q: got %d, want %d (%s)", tc.auth, code, tc.want, body)
		}
	}
	for _, path := range []string{"/metrics", "/healthz"} {
		resp, err := http.Get("http://" + s.Addr() + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s without a token: got %d, want 200 (the token guards ingest only)", path, resp.StatusCode)
		}
	}
}
