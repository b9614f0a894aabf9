package bronze

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/mem"
)

func post(t *testing.T, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHTTPIngestConcurrentClientsExactlyOnce(t *testing.T) {
	store := mem.New()
	s, stop := runService(t, Config{Store: store, HTTPAddr: "127.0.0.1:0"})
	url := "http://" + s.Addr() + "/v1/streams/web/events"

	const clients, requests, perRequest = 8, 25, 20
	var (
		mu    sync.Mutex
		acked int
		wg    sync.WaitGroup
	)
	for c := range clients {
		wg.Go(func() {
			for r := range requests {
				var body strings.Builder
				for e := range perRequest {
					fmt.Fprintf(&body, `{"client":%d,"request":%d,"event":%d}`+"\n", c, r, e)
				}
				code, resp := post(t, url, "", body.String())
				if code != http.StatusOK {
					t.Errorf("client %d request %d: %d %s", c, r, code, resp)
					continue
				}
				var got IngestResponse
				if err := json.Unmarshal([]byte(resp), &got); err != nil || got.Accepted != perRequest {
					t.Errorf("client %d request %d: response %s", c, r, resp)
					continue
				}
				mu.Lock()
				acked += got.Accepted
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}

	rep, err := Verify(t.Context(), VerifyConfig{Store: store, Stream: "web"})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK {
		t.Fatalf("verify: %v", rep.Problems)
	}
	if want := clients * requests * perRequest; acked != want || rep.HTTPRows != int64(acked) || rep.HTTP.Next != int64(acked) {
		t.Fatalf("acked %d (want %d), Bronze HTTP rows %d, ledger %d", acked, want, rep.HTTPRows, rep.HTTP.Next)
	}
	// Every acknowledged event is there once, byte for byte.
	rows, _ := latestRows(t, store, "web")
	seen := map[string]int{}
	for _, r := range rows {
		seen[string(r.Payload)]++
		if r.Source != SourceHTTP || r.Partition != -1 {
			t.Errorf("row %d: source %q partition %d", r.Offset, r.Source, r.Partition)
		}
	}
	for c := range clients {
		for r := range requests {
			for e := range perRequest {
				p := fmt.Sprintf(`{"client":%d,"request":%d,"event":%d}`, c, r, e)
				if seen[p] != 1 {
					t.Fatalf("event %s is in Bronze %d times, want once", p, seen[p])
				}
			}
		}
	}
	if rep.Version >= int64(clients*requests) {
		t.Logf("note: %d commits for %d requests (no group commit happened)", rep.Version+1, clients*requests)
	}
}

func TestHTTPIngestRejectsBadRequests(t *testing.T) {
	store := mem.New()
	s, _ := runService(t, Config{Store: store, HTTPAddr: "127.0.0.1:0", HTTP: HTTPConfig{
		Token: "sesame", MaxBodyBytes: 1024, MaxLineBytes: 64, Streams: []string{"web"},
	}})
	base := "http://" + s.Addr() + "/v1/streams/"
	long := strings.Repeat("x", 65)
	tests := []struct {
		name, stream, token, body string
		want                      int
	}{
		{"no token", "web", "", "{}\n", http.StatusUnauthorized},
		{"wrong token", "web", "nope", "{}\n", http.StatusUnauthorized},
		{"unlisted stream", "other", "sesame", "{}\n", http.StatusNotFound},
		{"invalid stream", "Bad%20Name", "sesame", "{}\n", http.StatusNotFound},
		{"empty body", "web", "sesame", "\n\n", http.StatusBadRequest},
		{"line too long", "web", "sesame", "{}\n" + long + "\n", http.StatusRequestEntityTooLarge},
		{"body too large", "web", "sesame", strings.Repeat("{\"a\":1}\n", 200), http.StatusRequestEntityTooLarge},
		{"accepted", "web", "sesame", "{\"a\":1}\r\n\nnot json\n", http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := post(t, base+tc.stream+"/events", tc.token, tc.body)
			if code != tc.want {
				t.Fatalf("status: got %d, want %d (body %s)", code, tc.want, body)
			}
			if code != http.StatusOK && !strings.Contains(body, `"error"`) {
				t.Errorf("error body %q has no error message", body)
			}
		})
	}
	snap, err := lake.NewTable(store, layout.TableRoot("web")).Latest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := snap.TxnVersion(layout.HTTPAppID("web")); n != 2 {
		t.Errorf("HTTP ledger: got %d events, want the 2 lines of the accepted request", n)
	}

	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"web/events", bytes.NewReader([]byte("{}\n")))
	req.Header.Set("Authorization", "Bearer sesame")
	req.Header.Set("Content-Type", "image/png")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("image/png: got %d, want 415", resp.StatusCode)
	}
}
