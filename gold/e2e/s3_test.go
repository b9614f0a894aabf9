package e2e

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lakectl/lakectl/engine/sqlfrag"
	"github.com/lakectl/lakectl/gold"
	"github.com/lakectl/lakectl/internal/e2e"
	"github.com/lakectl/lakectl/internal/s3server"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/stores"
)

// TestGoldOnMinIO runs gen → ingest (HTTP) → silver → gold with the pipeline's store
// on MinIO, configured as a user would (LAKECTL_LAKE=s3://..., AWS_* variables):
// Gold equals the hand-written aggregates over Silver, late data makes exactly the
// days it touched stale, and two concurrent runs of one day leave one commit.
func TestGoldOnMinIO(t *testing.T) {
	srv := s3server.Start(t, s3server.MinIO)
	dir := filepath.Join(t.TempDir(), "pipeline")
	lakeURL := fmt.Sprintf("s3://%s/%s", srv.Bucket, s3server.UniquePrefix(t))
	env := []string{
		"AWS_ACCESS_KEY_ID=" + srv.AccessKey, "AWS_SECRET_ACCESS_KEY=" + srv.SecretKey,
		"AWS_ENDPOINT_URL_S3=" + srv.Endpoint, "AWS_REGION=us-east-1", "AWS_S3_FORCE_PATH_STYLE=true",
		"LAKECTL_PIPELINE=" + dir, "LAKECTL_LAKE=" + lakeURL, "XDG_CACHE_HOME=" + t.TempDir(),
	}
	lakectl.Run(t, env, "init", dir)
	lakectl.Run(t, env, "ref", "load", "users")

	httpBatch(t, env, "-7h", "-5h", 1, 3000)
	lakectl.Run(t, env, "run", "silver", "--pending")
	runGold(t, env, "--stale", "--force")
	checkAgainstSilver(t, env, "on MinIO")

	before := silverDays(t, env, "")
	httpBatch(t, env, "-4h", "-2h", 2, 600)
	lakectl.Run(t, env, "run", "silver", "--pending")
	touched := silverDays(t, env, before.maxIngested)
	sums, _ := runGold(t, env, "--stale", "--force")
	rebuilt := map[string]bool{}
	for _, s := range sums {
		if s.Model == "daily_metrics" {
			rebuilt[s.Day.String()] = true
		}
	}
	if !mapsEqual(rebuilt, touched.days) {
		t.Errorf("--stale on MinIO rebuilt %v, want the days the late batch touched %v", keys(rebuilt), keys(touched.days))
	}
	checkAgainstSilver(t, env, "on MinIO after late data")

	httpBatch(t, env, "-90m", "0s", 3, 600)
	lakectl.Run(t, env, "run", "silver", "--pending")
	day := silverDays(t, env, touched.maxIngested).newest
	v0 := goldVersionAt(t, env, lakeURL)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() {
			p := lakectl.Start(t, fmt.Sprintf("gold racer #%d", i), env, "run", "gold", "daily_metrics", "--day", day, "--force")
			p.Wait(t)
			if p.Err() != nil {
				t.Errorf("racer #%d: %v\n%s", i, p.Err(), e2e.Tail(p.Stderr.String(), 2000))
			}
		})
	}
	wg.Wait()
	if v := goldVersionAt(t, env, lakeURL); v != v0+1 {
		t.Errorf("two concurrent runs of %s on MinIO: gold v%d → v%d, want one commit", day, v0, v)
	}
	runGold(t, env, "--stale", "--force")
	checkAgainstSilver(t, env, "on MinIO at the end")
	testS3Catalog(t, env, lakeURL)
}

// testS3Catalog exports the catalog of the lake on MinIO: the views name the s3://
// URLs of the files, and over those files (fetched here, since this DuckDB has no
// httpfs, and handed to the view in the order of its URLs) Gold reads as Silver sums.
func testS3Catalog(t *testing.T, env []string, lakeURL string) {
	file := filepath.Join(t.TempDir(), "lake.duckdb")
	lakectl.Run(t, env, "catalog", "export", file)
	db, err := sql.Open("duckdb", file+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // the variable belongs to the connection
	var viewSQL string
	if err := db.QueryRow("SELECT sql FROM duckdb_views() WHERE schema_name = 'gold' AND view_name = 'daily_metrics'").Scan(&viewSQL); err != nil {
		t.Fatal(err)
	}
	root := lakeURL + "/gold/daily_metrics/"
	urls := regexp.MustCompile(`'(s3://[^']+)'`).FindAllStringSubmatch(viewSQL, -1)
	if len(urls) == 0 {
		t.Fatalf("view gold.daily_metrics names no s3:// URL:\n%s", viewSQL)
	}
	store := openStore(t, env, lakeURL)
	dir := t.TempDir()
	var local []string
	for i, u := range urls {
		key, ok := strings.CutPrefix(u[1], lakeURL+"/")
		if !ok || !strings.HasPrefix(u[1], root) {
			t.Fatalf("view gold.daily_metrics reads %s, want files under %s", u[1], root)
		}
		data, err := lake.ReadAll(t.Context(), store, key)
		if err != nil {
			t.Fatal(err)
		}
		local = append(local, filepath.Join(dir, fmt.Sprintf("%d.parquet", i)))
		if err := os.WriteFile(local[i], data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec("SET VARIABLE lakectl_export_files = " + sqlfrag.StrList(local).String()); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := db.QueryRow("SELECT CAST(sum(total_amount) AS VARCHAR) || '/' || CAST(sum(events) AS VARCHAR) FROM gold.daily_metrics").Scan(&got); err != nil {
		t.Fatal(err)
	}
	r := lakectl.Query(t, env, "SELECT CAST(sum(amount) AS VARCHAR) || '/' || CAST(count(*) AS VARCHAR) AS s FROM silver.events")
	if want := r[0]["s"]; got != want {
		t.Errorf("gold.daily_metrics through the exported S3 catalog: %s, want Silver's %v", got, want)
	}
}

// httpBatch sends count events with seed through HTTP ingest with its clock shifted
// by offset, then stops an ingest run shifted by seal, whose clean stop seals them.
func httpBatch(t *testing.T, env []string, offset, seal string, seed, count int) {
	t.Helper()
	ing, addr := startHTTPIngest(t, env, offset)
	g := lakectl.Start(t, fmt.Sprintf("gen %d", seed), env, "gen", "--url", "http://"+addr+"/v1/streams/events/events",
		"--count", fmt.Sprint(count), "--seed", fmt.Sprint(seed), "--late", "0.3", "--duplicates", "0.02")
	if sum := e2e.GenSummary(t, g); sum.Sent != int64(count) || sum.Failed != 0 {
		t.Fatalf("gen: %+v, want %d sent", sum, count)
	}
	ing.Term(t)
	ing, _ = startHTTPIngest(t, env, seal)
	ing.Term(t)
	shift, err := time.ParseDuration(seal)
	if err != nil {
		t.Fatal(err)
	}
	if st := bronzeStatus(t, env); st.SealedThrough == nil || st.SealedThrough.Before(time.Now().Add(shift-15*time.Minute)) {
		t.Fatalf("hours not sealed after an ingest run at %s: %+v", seal, st)
	}
}

func startHTTPIngest(t *testing.T, env []string, offset string) (*e2e.Proc, string) {
	t.Helper()
	addr := e2e.FreeAddr(t)
	p := lakectl.Start(t, "ingest "+offset, env, "ingest", "--brokers=", "--http", addr,
		"--clock-offset", offset, "--flush-interval", "300ms", "--log-level", "warn")
	e2e.WaitHTTP(t, "http://"+addr+"/healthz", p)
	return p, addr
}

// goldVersionAt is the version of gold/daily_metrics in the lake at url.
func goldVersionAt(t *testing.T, env []string, url string) int64 {
	t.Helper()
	snap, err := lake.NewTable(openStore(t, env, url), gold.Root("daily_metrics")).Latest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return snap.Version
}

// openStore opens the lake at url, read-only, with the credentials of env.
func openStore(t *testing.T, env []string, url string) lake.Store {
	t.Helper()
	store, err := stores.Open(t.Context(), url, stores.Options{ReadOnly: true, Getenv: func(name string) string {
		for i := len(env) - 1; i >= 0; i-- {
			if v, ok := strings.CutPrefix(env[i], name+"="); ok {
				return v
			}
		}
		return os.Getenv(name)
	}})
	if err != nil {
		t.Fatal(err)
	}
	return store
}
