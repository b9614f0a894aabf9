package serve

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// benchClients is how many dashboards poll at once, as the target load.
const benchClients = 200

// benchReload is how often a dashboard drops its ETag and loads the view afresh, as a
// newly opened tab does: one poll in benchReload.
const benchReload = 20

// benchDuration is how long the dashboards poll: 60 s, or LAKECTL_BENCH_SECONDS.
func benchDuration(b *testing.B) time.Duration {
	s := os.Getenv("LAKECTL_BENCH_SECONDS")
	if s == "" {
		return time.Minute
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		b.Fatalf("LAKECTL_BENCH_SECONDS=%q: want a positive whole number of seconds", s)
	}
	return time.Duration(n) * time.Second
}

// pollResult is what one dashboard saw.
type pollResult struct {
	ok, notModified []time.Duration // latencies of 200s and 304s
	errors          []string
}

// BenchmarkDashboardPoll has 200 dashboards poll the example pipeline's views over
// HTTP on loopback for a bounded time, each keeping the ETag it was given and sending
// it back, and one poll in benchReload a full load. It reports latency percentiles,
// the share of 304s, errors (which fail it: the target is none) and the process's peak
// RSS, which holds the clients as well as the server and its DuckDB sessions.
func BenchmarkDashboardPoll(b *testing.B) {
	_, srv := servedLake(b, Auth{})
	viewNames := []string{"hourly_trends", "daily_summary", "realtime_kpis"}
	d := benchDuration(b)
	tr := &http.Transport{MaxIdleConnsPerHost: benchClients} // one kept-alive connection per dashboard
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: time.Minute}

	for b.Loop() {
		resetPeakRSS()
		results := make([]pollResult, benchClients)
		deadline := time.Now().Add(d)
		var wg sync.WaitGroup
		for i := range benchClients {
			wg.Go(func() {
				results[i] = poll(client, srv.URL+"/v1/views/"+viewNames[i%len(viewNames)], deadline)
			})
		}
		wg.Wait()
		rss := peakRSS()

		var ok, notModified, all []time.Duration
		var errs []string
		for _, r := range results {
			ok, notModified, errs = append(ok, r.ok...), append(notModified, r.notModified...), append(errs, r.errors...)
		}
		all = slices.Concat(ok, notModified)
		n := len(all) + len(errs)
		share304 := float64(len(notModified)) / float64(max(n, 1))
		b.ReportMetric(ms(percentile(all, 50)), "p50_ms")
		b.ReportMetric(ms(percentile(all, 99)), "p99_ms")
		b.ReportMetric(ms(percentile(ok, 99)), "p99_200_ms")
		b.ReportMetric(share304, "share_304")
		b.ReportMetric(float64(len(errs)), "errors")
		b.ReportMetric(float64(n)/d.Seconds(), "req/s")
		b.ReportMetric(float64(rss)/(1<<20), "peak_rss_MiB")
		b.Logf("%d dashboards for %s: %d requests (%.0f/s), p50 %.1f ms, p99 %.1f ms (200s: p50 %.1f ms, p99 %.1f ms), %.1f%% 304s, %d errors, peak RSS %d MiB",
			benchClients, d, n, float64(n)/d.Seconds(), ms(percentile(all, 50)), ms(percentile(all, 99)),
			ms(percentile(ok, 50)), ms(percentile(ok, 99)), 100*share304, len(errs), rss>>20)
		if len(errs) > 0 {
			b.Errorf("%d errors, the first: %s", len(errs), errs[0])
		}
	}
}

// poll is one dashboard: it asks for url until deadline, sending back the ETag it
// last got except on every benchReload-th poll.
func poll(client *http.Client, url string, deadline time.Time) pollResult {
	var r pollResult
	var etag string
	for i := 0; time.Now().Before(deadline); i++ {
		req, err := http.NewRequest("GET", url, nil)
		if err != nil {
			r.errors = append(r.errors, err.Error())
			return r
		}
		if etag != "" && i%benchReload != 0 {
			req.Header.Set("If-None-Match", etag)
		}
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			r.errors = append(r.errors, err.Error())
			continue
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		took := time.Since(start)
		switch {
		case err != nil:
			r.errors = append(r.errors, fmt.Sprintf("reading %s: %v", url, err))
		case resp.StatusCode == http.StatusOK && resp.Header.Get("ETag") != "":
			etag = resp.Header.Get("ETag")
			r.ok = append(r.ok, took)
		case resp.StatusCode == http.StatusNotModified:
			r.notModified = append(r.notModified, took)
		default:
			r.errors = append(r.errors, fmt.Sprintf("%s: %s, ETag %q", url, resp.Status, resp.Header.Get("ETag")))
		}
	}
	return r
}

// percentile is the p-th percentile of ds by nearest rank; 0 for none.
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min((len(s)*p+99)/100, len(s))-1]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// resetPeakRSS starts peakRSS's measure anew (Linux; elsewhere it does nothing).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS is VmHWM, the peak resident memory since the last reset, in bytes; 0 where
// /proc is not there.
func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
