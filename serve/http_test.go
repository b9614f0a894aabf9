package serve

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/lakectl/lakectl/gold"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/cache"
	"github.com/lakectl/lakectl/views"
)

// servedLake is a lake of one day that serve's tasks processed, and a handler over it.
func servedLake(t testing.TB, auth Auth) (*testLake, *httptest.Server) {
	return servedLakeWith(t, HandlerConfig{Auth: auth})
}

// servedLakeWith is servedLake with cfg's settings (the lake's own filled in).
func servedLakeWith(t testing.TB, cfg HandlerConfig) (*testLake, *httptest.Server) {
	t.Helper()
	l := newTestLake(t)
	fillDay(l)
	rp := l.replica()
	s := newTestScheduler(t, rp)
	runStages(t, s)
	vs, err := views.Load(t.Context(), l.p, testEngine)
	if err != nil {
		t.Fatal(err)
	}
	models, err := gold.Load(t.Context(), l.p, testEngine)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	store := l.store()
	cfg.Store, cfg.Cache, cfg.Pipeline, cfg.Views, cfg.Models, cfg.Gold = store, cache.New(store, filepath.Join(t.TempDir(), "cache"), 0), l.p, vs, models, rp.Gold
	cfg.Scheduler, cfg.Engine, cfg.Registerer, cfg.Gatherer = s, testEngine, reg, reg
	h := NewHandler(cfg)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return l, srv
}

func get(t *testing.T, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func jsonRows(t *testing.T, body []byte) []map[string]any {
	t.Helper()
	var rows []map[string]any
	if err := json.Unmarshal(body, &rows); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return rows
}

func TestServeView(t *testing.T) {
	l, srv := servedLake(t, Auth{})
	want := len(l.dump(views.Root("hourly_trends")))
	url := srv.URL + "/v1/views/hourly_trends"

	t.Run("formats", func(t *testing.T) {
		resp, body := get(t, url)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("%s %s: %s", resp.Status, resp.Header.Get("Content-Type"), body)
		}
		rows := jsonRows(t, body)
		if len(rows) != want || rows[0]["event_type"] == nil || rows[0]["events"] == nil {
			t.Errorf("JSON: %d rows %v, want %d with the view's columns", len(rows), rows, want)
		}
		if h, _ := rows[0]["hour"].(string); !regexp.MustCompile(`^2026-11-20T0[89]:00:00\.000Z$`).MatchString(h) {
			t.Errorf("JSON time %q, want ISO 8601 in UTC with milliseconds", h)
		}
		resp, body = get(t, url, "Accept", "text/csv")
		recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
		if err != nil || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
			t.Fatalf("CSV: %v, %s: %s", err, resp.Header.Get("Content-Type"), body)
		}
		if len(recs) != want+1 || !strings.Contains(strings.Join(recs[0], ","), "event_type") {
			t.Errorf("CSV: %q, want a header and %d rows", recs, want)
		}
		resp, body = get(t, url+"?format=parquet")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/vnd.apache.parquet" {
			t.Fatalf("%s: %s", resp.Status, body)
		}
		f, err := parquet.OpenFile(bytes.NewReader(body), int64(len(body)))
		if err != nil {
			t.Fatal(err)
		}
		if f.NumRows() != int64(want) {
			t.Errorf("Parquet: %d rows, want %d", f.NumRows(), want)
		}
		if resp, _ := get(t, url+"?format=xml"); resp.StatusCode != 400 {
			t.Errorf("?format=xml: %s, want 400", resp.Status)
		}
	})

	t.Run("etag and freshness", func(t *testing.T) {
		snap, err := lake.NewTable(l.store(), views.Root("hourly_trends")).Latest(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		resp, _ := get(t, url)
		etag := resp.Header.Get("ETag")
		if etag != `"v`+strconv.FormatInt(snap.Version, 10)+`"` || resp.Header.Get("Last-Modified") == "" {
			t.Errorf("ETag %s, Last-Modified %q; want the version %d", etag, resp.Header.Get("Last-Modified"), snap.Version)
		}
		if got := resp.Header.Get("Lakectl-Freshness-Slo"); got != "7200" {
			t.Errorf("SLO header %q, want 7200 (product's 2h)", got)
		}
		if got := resp.Header.Get("Lakectl-Reflects-Through"); got == "" {
			t.Errorf("no Lakectl-Reflects-Through")
		}
		resp, body := get(t, url, "If-None-Match", etag)
		if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Errorf("If-None-Match %s: %s with %d bytes, want 304 and none", etag, resp.Status, len(body))
		}
		if resp, _ := get(t, url, "If-None-Match", `"v999"`); resp.StatusCode != 200 {
			t.Errorf("another version's ETag: %s, want 200", resp.Status)
		}
	})

	t.Run("time range and limit", func(t *testing.T) {
		_, body := get(t, url+"?from=2026-11-20T09:00:00Z&to=2026-11-20T10:00:00Z")
		for _, r := range jsonRows(t, body) {
			if !strings.HasPrefix(r["hour"].(string), "2026-11-20T09") {
				t.Errorf("row outside the range: %v", r)
			}
		}
		_, early := get(t, url+"?to=1795165200000") // 2026-11-20T09:00Z in Unix ms, as Grafana sends it
		_, late := get(t, url+"?from=2026-11-20T09:00:00Z")
		if n, m := len(jsonRows(t, early)), len(jsonRows(t, late)); n == 0 || m == 0 || n+m != want {
			t.Errorf("before 09: %d rows, from 09: %d; want both some, %d in all", n, m, want)
		}
		if _, body := get(t, url+"?limit=1"); len(jsonRows(t, body)) != 1 {
			t.Errorf("?limit=1: %s", body)
		}
		for _, q := range []string{"?from=yesterday", "?limit=-1", "?limit=99999999999"} {
			if resp, _ := get(t, url+q); resp.StatusCode != 400 {
				t.Errorf("%s: %s, want 400", q, resp.Status)
			}
		}
	})

	t.Run("gold tables a consumer declares", func(t *testing.T) {
		resp, body := get(t, srv.URL+"/v1/gold/daily_metrics")
		if resp.StatusCode != 200 || len(jsonRows(t, body)) != len(l.dump(gold.Root("daily_metrics"))) {
			t.Errorf("gold.daily_metrics, which finance reads: %s %s", resp.Status, body)
		}
		if resp, _ := get(t, srv.URL+"/v1/gold/user_daily"); resp.StatusCode != 404 {
			t.Errorf("gold.user_daily, which no consumer reads: %s, want 404", resp.Status)
		}
		if resp, _ := get(t, srv.URL+"/v1/views/nope"); resp.StatusCode != 404 {
			t.Errorf("an unknown view: %s, want 404", resp.Status)
		}
	})

	t.Run("status, metrics, health", func(t *testing.T) {
		resp, body := get(t, srv.URL+"/v1/status")
		var st Status
		if err := json.Unmarshal(body, &st); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %v: %s", resp.Status, err, body)
		}
		if len(st.Tasks) == 0 || len(st.Consumers) != 3 || len(st.Views) != 3 {
			t.Errorf("status: %d tasks, %d consumers, %d views; want tasks, 3 and 3", len(st.Tasks), len(st.Consumers), len(st.Views))
		}
		if days, ok := st.StaleDays["daily_metrics"]; !ok || len(days) != 0 {
			t.Errorf("status: stale days %v, want daily_metrics listed with none (serve built the day)", st.StaleDays)
		}
		_, body = get(t, srv.URL+"/metrics")
		for _, want := range []string{`lakectl_serve_consumer_slo_seconds{consumer="product"} 7200`, `lakectl_serve_consumer_freshness_seconds{consumer="finance"}`,
			`lakectl_serve_http_requests_total{code="304",route="GET /v1/views/{name}"}`} {
			if !strings.Contains(string(body), want) {
				t.Errorf("/metrics lacks %s:\n%s", want, body)
			}
		}
		for _, p := range []string{"/healthz", "/readyz"} {
			if resp, _ := get(t, srv.URL+p); resp.StatusCode != 200 {
				t.Errorf("%s: %s", p, resp.Status)
			}
		}
	})
}

// A query that outlasts the per-query timeout is a 503 that says so, not a cut-off 200.
func TestQueryTimeout(t *testing.T) {
	_, srv := servedLakeWith(t, HandlerConfig{QueryTimeout: time.Nanosecond})
	resp, body := get(t, srv.URL+"/v1/views/hourly_trends")
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "took longer than") {
		t.Errorf("%s: %s; want 503 naming the timeout", resp.Status, body)
	}
}
