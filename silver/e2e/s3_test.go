package e2e

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lakectl/lakectl/internal/e2e"
	"github.com/lakectl/lakectl/internal/s3server"
	"github.com/lakectl/lakectl/lake/stores"
	"github.com/lakectl/lakectl/lake/storetest"
	"github.com/lakectl/lakectl/silver"
)

// s3Phases are the ingest runs of the S3 flow: the shape of phases (two fresh
// streams, then the first resent an hour later), with fewer events.
var s3Phases = []phase{
	{offset: "-4h", seed: 21, count: 3000},
	{offset: "-3h", seed: 22, count: 3000},
	{offset: "-2h", seed: 21, count: 3000},
}

// TestSilverOnS3 runs the Bronze → Silver flow with the pipeline's store on a real S3
// server, configured as a user would: LAKECTL_LAKE=s3://bucket/prefix and the AWS_*
// variables. HTTP ingest (not Kafka) keeps it short; the Kafka path to Bronze is the
// same store code, and TestSilver covers it on a local lake.
func TestSilverOnS3(t *testing.T) {
	for _, kind := range []string{s3server.MinIO, s3server.VersityGW} {
		t.Run(kind, func(t *testing.T) { testSilverOnS3(t, kind) })
	}
}

func testSilverOnS3(t *testing.T, kind string) {
	srv := s3server.Start(t, kind)
	start := time.Now()
	dir := filepath.Join(t.TempDir(), "pipeline")
	cacheHome := t.TempDir()
	lakeURL := fmt.Sprintf("s3://%s/%s", srv.Bucket, s3server.UniquePrefix(t))
	env := append(s3Env(srv), "LAKECTL_PIPELINE="+dir, "LAKECTL_LAKE="+lakeURL,
		// The default cache directory is under the user's cache directory.
		"XDG_CACHE_HOME="+cacheHome)
	lakectl.Run(t, env, "init", dir)
	lakectl.Run(t, env, "ref", "load", "users")

	f := bronzeFixture{dir: dir}
	seen := map[uint64]bool{}
	for i, ph := range s3Phases {
		ing, addr := startHTTPIngest(t, env, ph.offset)
		g := lakectl.Start(t, fmt.Sprintf("gen #%d", i), env, "gen", "--url", "http://"+addr+"/v1/streams/events/events",
			"--count", fmt.Sprint(ph.count), "--seed", fmt.Sprint(ph.seed),
			"--duplicates", duplicates, "--late", late, "--malformed", malformed)
		sum := e2e.GenSummary(t, g)
		if sum.Sent != int64(ph.count) || sum.Failed != 0 || sum.Malformed == 0 || sum.Duplicates == 0 {
			t.Fatalf("gen #%d: %+v, want %d sent with duplicates and malformed ones", i, sum, ph.count)
		}
		f.sent += sum.Sent
		f.malformed += sum.Malformed
		if !seen[ph.seed] {
			f.uniqueIDs += sum.UniqueEventIDs
			seen[ph.seed] = true
		}
		// gen's events are acknowledged after their commit: Bronze holds them all.
		if got := bronzeStatus(t, env).Rows; got != f.sent {
			t.Fatalf("Bronze on %s holds %d rows after gen #%d, want %d", kind, got, i, f.sent)
		}
		ing.Term(t)
	}
	// The real clock: a clean stop commits the stream's mark at now, which seals the
	// shifted hours.
	ing, _ := startHTTPIngest(t, env, "0s")
	ing.Term(t)
	if st := bronzeStatus(t, env); st.SealedThrough == nil || st.SealedThrough.Before(time.Now().Add(-90*time.Minute)) {
		t.Fatalf("hours not sealed after an ingest run with the real clock: %+v", st)
	}
	t.Logf("%s: %d events sent, %d unique valid ids, %d malformed (%s)", kind, f.sent, f.uniqueIDs, f.malformed, time.Since(start).Round(time.Millisecond))

	// The same Bronze and reference data on a local lake, for the comparison, and
	// under a second prefix, for racing runs.
	localDir := filepath.Join(t.TempDir(), "lake")
	copyLake(t, lakeURL, env, localDir)
	localEnv := append(slices.Clone(env), "LAKECTL_LAKE="+localDir)
	raceURL := fmt.Sprintf("s3://%s/%s", srv.Bucket, s3server.UniquePrefix(t))
	copyLake(t, lakeURL, env, raceURL)

	began := time.Now()
	sums := runSilver(t, env, "--pending")
	onS3 := time.Since(began)
	testPending(t, f, env, sums)

	began = time.Now()
	runSilver(t, localEnv, "--pending")
	local := time.Since(began)
	t.Logf("run silver --pending over %d events: %s on %s, %s on a local directory", f.sent, onS3.Round(time.Millisecond), kind, local.Round(time.Millisecond))

	remote := openLakeURL(t, lakeURL, env)
	if got, want := remote.silverStates(t), openLakeURL(t, localDir, nil).silverStates(t); !slices.EqualFunc(got, want, tableState.same) {
		t.Errorf("Silver on %s:\n%v\nwant the same as on a local lake:\n%v", kind, got, want)
	}

	t.Run("racing runs sharing the default cache equal one run", func(t *testing.T) {
		// A cache directory of their own, empty: both processes download into it at
		// once, and both commit to the same S3 tables.
		raceEnv := append(slices.Clone(env), "LAKECTL_LAKE="+raceURL, "XDG_CACHE_HOME="+t.TempDir())
		var wg sync.WaitGroup
		for i := range 2 {
			wg.Go(func() {
				p := lakectl.Start(t, fmt.Sprintf("racer #%d", i), raceEnv, "run", "silver", "--pending")
				p.Wait(t)
				if p.Err() != nil {
					t.Errorf("racer #%d: %v\n%s", i, p.Err(), e2e.Tail(p.Stderr.String(), 2000))
				}
			})
		}
		wg.Wait()
		raced := openLakeURL(t, raceURL, env)
		if got, want := raced.silverStates(t), remote.silverStates(t); !slices.EqualFunc(got, want, tableState.same) {
			t.Errorf("Silver after racing runs:\n%v\nwant one run's:\n%v", got, want)
		}
		if got, want := raced.quarantineState(t), remote.quarantineState(t); !got.same(want) {
			t.Errorf("quarantine after racing runs: %v, want %v", got, want)
		}
	})

	t.Run("a re-run changes nothing", func(t *testing.T) {
		before, beforeQ := remote.silverStates(t), remote.quarantineState(t)
		files := remote.dataFiles(t, silver.Root("events"))
		for _, s := range sums {
			if again := runSilver(t, env, "--hour", s.Hour.String()); len(again) != 1 || !again[0].Skipped {
				t.Errorf("run of done hour %s: %+v, want skipped", s.Hour, again)
			}
		}
		if out := lakectl.Run(t, env, "run", "silver", "--pending"); !strings.Contains(out, "no pending hours") {
			t.Errorf("--pending after all hours: %q, want no pending hours", out)
		}
		if after := remote.silverStates(t); !slices.EqualFunc(before, after, func(a, b tableState) bool { return a.same(b) && slices.Equal(a.Files, b.Files) }) {
			t.Errorf("Silver changed: before %v, after %v", before, after)
		}
		if q := remote.quarantineState(t); !q.same(beforeQ) || !slices.Equal(q.Files, beforeQ.Files) {
			t.Errorf("quarantine changed: before %v, after %v", beforeQ, q)
		}
		if after := remote.dataFiles(t, silver.Root("events")); !slices.Equal(files, after) {
			t.Errorf("Silver data objects: %d before the re-runs, %d after", len(files), len(after))
		}
	})

	t.Run("table show and vacuum --dry-run take the S3 URL", func(t *testing.T) {
		table := lakeURL + "/" + silver.Root("events")
		var show struct {
			Version int64 `json:"version"`
			Files   []struct {
				Path       string `json:"path"`
				NumRecords *int64 `json:"numRecords"`
			} `json:"files"`
		}
		if err := json.Unmarshal([]byte(lakectl.Run(t, env, "table", "show", table, "--json")), &show); err != nil {
			t.Fatalf("table show --json: %v", err)
		}
		last := remote.silverStates(t)
		want := last[len(last)-1]
		var records int64
		var paths []string
		for _, f := range show.Files {
			paths = append(paths, f.Path)
			if f.NumRecords != nil {
				records += *f.NumRecords
			}
		}
		if show.Version != want.Version || !slices.Equal(paths, want.Files) || records != f.uniqueIDs {
			t.Errorf("table show %s: version %d, %d files, %d records; want version %d, %d files, %d records",
				table, show.Version, len(paths), records, want.Version, len(want.Files), f.uniqueIDs)
		}
		// Bronze has what vacuum deletes once `compact bronze` (a writer on S3 too)
		// has replaced the small files of the sealed hours: those files, and the
		// commits older than its checkpoints.
		lakectl.Run(t, env, "compact", "bronze", "--sealed")
		bronzeTable := lakeURL + "/bronze/events"
		bronzeRoot := "bronze/events"
		var vac struct {
			DryRun    bool `json:"dryRun"`
			DataFiles int  `json:"dataFiles"`
			LogFiles  int  `json:"logFiles"`
			Files     []struct {
				Key string `json:"key"`
			} `json:"files"`
		}
		objects := func() int {
			objs, err := remote.store.List(t.Context(), bronzeRoot+"/", "")
			if err != nil {
				t.Fatal(err)
			}
			return len(objs)
		}
		before := objects()
		out := lakectl.Run(t, env, "vacuum", bronzeTable, "--dry-run", "--retain", "0", "--json")
		if err := json.Unmarshal([]byte(out), &vac); err != nil {
			t.Fatalf("vacuum --dry-run --json: %v", err)
		}
		if !vac.DryRun || vac.DataFiles == 0 || vac.LogFiles == 0 || len(vac.Files) != vac.DataFiles+vac.LogFiles {
			t.Errorf("vacuum %s --dry-run --retain 0: %s; want a dry run listing compacted data files and old commits", bronzeTable, e2e.Tail(out, 300))
		}
		if after := objects(); after != before {
			t.Errorf("vacuum --dry-run changed %s: %d objects before, %d after", bronzeTable, before, after)
		}
		// Compaction moved rows between files, not in or out of hours.
		if out := lakectl.Run(t, env, "run", "silver", "--pending"); !strings.Contains(out, "no pending hours") {
			t.Errorf("--pending after compact bronze: %q, want no pending hours", out)
		}
	})

	t.Run("a second process reuses the local cache", func(t *testing.T) {
		testCacheReuse(t, env, filepath.Join(cacheHome, "lakectl"))
	})

	// Bronze, compacted Bronze, Silver, quarantine and the reference table, as the
	// S3 server serves them (compaction is a no-op if the subtest above ran it).
	t.Run("every file passes the footer check", func(t *testing.T) {
		lakectl.Run(t, env, "compact", "bronze", "--sealed")
		checkFooters(t, remote.store)
	})
}

// testCacheReuse runs one query twice, in two processes: the first fills the
// default cache directory, the second must read the same files (same inodes) and
// download nothing.
func testCacheReuse(t *testing.T, env []string, dir string) {
	const q = "SELECT count(*) AS n FROM silver.events"
	first := num(t, one(t, env, q), "n")
	before := cacheFiles(t, dir)
	if len(before) == 0 {
		t.Fatalf("cache directory %s is empty after a query of an S3 lake", dir)
	}
	if second := num(t, one(t, env, q), "n"); second != first {
		t.Errorf("second query: %d rows, first %d", second, first)
	}
	after := cacheFiles(t, dir)
	if !maps.Equal(before, after) {
		t.Errorf("cache directory changed under a repeated query: %d files before, %d after; a second process should reuse them", len(before), len(after))
	}
}

// cacheFiles maps each file of the cache directory to its inode: a file downloaded
// again is renamed into place and gets a new one.
func cacheFiles(t *testing.T, dir string) map[string]uint64 {
	t.Helper()
	out := map[string]uint64{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out[p] = info.Sys().(*syscall.Stat_t).Ino
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return out
}

// s3Env is the environment a user sets for an S3 lake: credentials, endpoint,
// region and path-style addressing.
func s3Env(srv *s3server.Server) []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + srv.AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + srv.SecretKey,
		"AWS_ENDPOINT_URL_S3=" + srv.Endpoint,
		"AWS_REGION=us-east-1",
		"AWS_S3_FORCE_PATH_STYLE=true",
	}
}

// startHTTPIngest starts ingest over HTTP only (no Kafka) with a shifted clock and
// returns it with its address.
func startHTTPIngest(t *testing.T, env []string, offset string) (*e2e.Proc, string) {
	t.Helper()
	addr := e2e.FreeAddr(t)
	p := lakectl.Start(t, "ingest "+offset, env, "ingest", "--brokers=", "--http", addr,
		"--clock-offset", offset, "--flush-interval", "300ms", "--log-level", "warn")
	e2e.WaitHTTP(t, "http://"+addr+"/healthz", p)
	return p, addr
}

// copyLake copies every object of the lake at url into the lake at dst.
func copyLake(t *testing.T, url string, env []string, dst string) {
	t.Helper()
	src, err := stores.Open(t.Context(), url, stores.Options{ReadOnly: true, Getenv: envLookup(env)})
	if err != nil {
		t.Fatal(err)
	}
	to, err := stores.Open(t.Context(), dst, stores.Options{Getenv: envLookup(env)})
	if err != nil {
		t.Fatal(err)
	}
	storetest.Copy(t, to, src)
}

// TestS3ConfigErrors: a wrong secret, a missing bucket or an endpoint where nothing
// listens fail every kind of command (one that reads, one that writes and so probes
// conditional writes on open, one given a table URL) with one error line and a hint
// that names what to fix.
func TestS3ConfigErrors(t *testing.T) {
	srv := s3server.Start(t, s3server.MinIO)
	dir := filepath.Join(t.TempDir(), "pipeline")
	lakectl.Run(t, nil, "init", dir)
	prefix := s3server.UniquePrefix(t)
	cases := []struct {
		name   string
		bucket string
		env    []string
		hint   string // the hint line must contain this
	}{
		{"wrong secret", srv.Bucket, []string{"AWS_SECRET_ACCESS_KEY=not-the-secret"}, "AWS_SECRET_ACCESS_KEY"},
		{"unknown access key", srv.Bucket, []string{"AWS_ACCESS_KEY_ID=nobody"}, "AWS_ACCESS_KEY_ID"},
		{"missing bucket", "no-such-bucket", nil, `"no-such-bucket"`},
		// Retried with backoff first (a server may be restarting): `status` only,
		// to keep the test short; the other commands open the store the same way.
		{"nothing listens at the endpoint", srv.Bucket, []string{"AWS_ENDPOINT_URL_S3=http://" + e2e.FreeAddr(t)}, "AWS_ENDPOINT_URL_S3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lakeURL := fmt.Sprintf("s3://%s/%s", c.bucket, prefix)
			env := append(append(s3Env(srv), "LAKECTL_PIPELINE="+dir, "LAKECTL_LAKE="+lakeURL), c.env...)
			commands := [][]string{
				{"status"},
				{"run", "silver", "--pending"},
				{"table", "show", lakeURL + "/silver/events"},
			}
			if c.hint == "AWS_ENDPOINT_URL_S3" {
				commands = commands[:1]
			}
			for _, args := range commands {
				p := lakectl.Start(t, fmt.Sprint(args), env, args...)
				p.Wait(t)
				stderr := strings.TrimRight(p.Stderr.String(), "\n")
				lines := strings.Split(stderr, "\n")
				if p.Err() == nil || len(lines) != 2 || !strings.HasPrefix(lines[0], "lakectl: ") ||
					!strings.HasPrefix(lines[1], "hint: ") || !strings.Contains(lines[1], c.hint) {
					t.Errorf("lakectl %s: exit %v, stderr:\n%s\nwant exit 1, one error line and a hint naming %s", strings.Join(args, " "), p.Err(), stderr, c.hint)
				}
			}
		})
	}
}
