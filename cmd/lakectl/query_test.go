package main

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lakectl/lakectl/internal/s3server"
)

// TestQueryAsOfBeforeATableExisted: --as-of reads every table as it was then; a table
// that did not exist yet (or has no such version) fails only a query that names it,
// and that query's error names it.
func TestQueryAsOfBeforeATableExisted(t *testing.T) {
	dir := t.TempDir()
	ref := filepath.Join(dir, "reference")
	if err := os.MkdirAll(ref, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"lakectl.yaml":           "reference:\n  users: {file: reference/users.csv}\n  plans: {file: reference/plans.csv}\n",
		"reference/users.csv":    "user_id,country\nu1,DE\nu2,FR\n",
		"reference/plans.csv":    "plan\nfree\n",
		"reference/users-v1.csv": "user_id,country\nu1,DE\nu2,FR\nu3,NL\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mustLakectl(t, "ref", "load", "users", "-p", dir)
	time.Sleep(20 * time.Millisecond) // commit times are in milliseconds
	between := time.Now().UTC().Format(time.RFC3339Nano)
	time.Sleep(20 * time.Millisecond)
	mustLakectl(t, "ref", "load", "plans", "-p", dir)
	mustLakectl(t, "ref", "load", "users", filepath.Join(dir, "reference/users-v1.csv"), "-p", dir)

	for _, tt := range []struct {
		asOf string
		want string
	}{
		{between, "n\n2\n"}, // plans did not exist yet
		{"1", "n\n3\n"},     // plans has no v1
	} {
		res := runLakectl(t, "query", "-p", dir, "--format", "csv", "--as-of", tt.asOf, "SELECT count(*) AS n FROM ref.users")
		if res.exitCode != 0 || res.stdout != tt.want || res.stderr != "" {
			t.Errorf("query --as-of %s: exit %d, stdout %q, stderr %q; want %q and nothing on stderr", tt.asOf, res.exitCode, res.stdout, res.stderr, tt.want)
		}
		res = runLakectl(t, "query", "-p", dir, "--format", "csv", "--as-of", tt.asOf, "SELECT count(*) AS n FROM ref.users JOIN ref.plans ON true")
		if res.exitCode != 1 || !strings.Contains(res.stderr, "ref.plans: ") || !strings.Contains(res.stderr, "lakectl table history ") {
			t.Errorf("query --as-of %s of ref.plans: exit %d, stderr %q; want exit 1 naming ref.plans with a history hint", tt.asOf, res.exitCode, res.stderr)
		}
	}
}

// TestQueryTouchesOnlyTheTablesItNames: with one table broken (a live data file
// deleted), a query of another table still runs, and a query of the broken one fails
// naming the table, the file and the version, with the command that checks it; the
// argument, stdin and the prompt alike.
func TestQueryTouchesOnlyTheTablesItNames(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"lakectl.yaml": "reference:\n  users: {file: users.csv}\n  plans: {file: plans.csv}\n",
		"users.csv":    "user_id,country\nu1,DE\nu2,FR\n",
		"plans.csv":    "plan\nfree\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mustLakectl(t, "ref", "load", "users", "-p", dir)
	mustLakectl(t, "ref", "load", "plans", "-p", dir)
	var planFile string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(filepath.ToSlash(p), "ref/plans/") && strings.HasSuffix(p, ".parquet") {
			planFile = p
		}
		return err
	})
	if err != nil || planFile == "" {
		t.Fatalf("no data file of ref.plans under %s (%v)", dir, err)
	}
	if err := os.Remove(planFile); err != nil {
		t.Fatal(err)
	}
	tableDir := filepath.Dir(planFile)
	wantErr := "lakectl: ref.plans: data file " + filepath.Base(planFile) + " is missing (listed in v0)"
	wantHint := "hint: run lakectl table check " + tableDir

	const users, plans = "SELECT count(*) AS n FROM ref.users", "SELECT * FROM ref.plans"
	if res := runLakectl(t, "query", "-p", dir, "--format", "csv", users); res.exitCode != 0 || res.stdout != "n\n2\n" {
		t.Errorf("query of ref.users with ref.plans broken: %+v, want n=2", res)
	}
	res := runLakectl(t, "query", "-p", dir, plans)
	if res.exitCode != 1 || res.stderr != wantErr+"\n"+wantHint+"\n" {
		t.Errorf("query of the broken ref.plans: exit %d, stderr:\n%s\nwant exit 1 and\n%s\n%s", res.exitCode, res.stderr, wantErr, wantHint)
	}

	for _, tt := range []struct{ sql, stdout, stderr string }{
		{users, "n\n2\n", ""},
		{plans, "", wantErr},
	} {
		cmd := exec.CommandContext(t.Context(), lakectlBin, "query", "-p", dir, "--format", "csv")
		cmd.Stdin = strings.NewReader(tt.sql)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		cmd.Run()
		if stdout.String() != tt.stdout || !strings.Contains(stderr.String(), tt.stderr) {
			t.Errorf("query of %q on stdin: stdout %q, stderr %q; want %q and %q", tt.sql, stdout.String(), stderr.String(), tt.stdout, tt.stderr)
		}
	}

	pf := pipelineFlags{dir: dir}
	env, err := pf.open(t.Context(), true)
	if err != nil {
		t.Fatal(err)
	}
	q := &querier{tables: newLakeTables(env, snapshotSelector{})}
	defer q.Close()
	var out, errw strings.Builder
	in := strings.NewReader(users + ";\n" + plans + ";\n" + users + ";\n")
	if err := prompt(t.Context(), q, "csv", in, &out, &errw); err != nil {
		t.Fatal(err)
	}
	if out.String() != "n\n2\nn\n2\n" || !strings.Contains(errw.String(), strings.TrimPrefix(wantErr, "lakectl: ")) {
		t.Errorf("prompt: stdout %q, stderr %q; want ref.users counted twice and the error about ref.plans", out.String(), errw.String())
	}
}

// TestQueryOnS3DownloadsOnlyTheTablesItNames: on an S3 lake (versitygw) a query
// fetches into the cache the files of the tables it names, not those of every table
// (a join fetches its tables' files at once), and --explain says, by table, what it
// downloaded.
func TestQueryOnS3DownloadsOnlyTheTablesItNames(t *testing.T) {
	srv := s3server.Start(t, s3server.VersityGW)
	dir := t.TempDir()
	files := map[string]string{
		"lakectl.yaml": "reference:\n  users: {file: users.csv}\n  plans: {file: plans.csv}\n",
		"users.csv":    "user_id,country\nu1,DE\nu2,FR\n",
		"plans.csv":    "plan\nfree\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cacheDir := t.TempDir()
	env := []string{
		"AWS_ACCESS_KEY_ID=" + srv.AccessKey, "AWS_SECRET_ACCESS_KEY=" + srv.SecretKey,
		"AWS_ENDPOINT_URL_S3=" + srv.Endpoint, "AWS_REGION=us-east-1", "AWS_S3_FORCE_PATH_STYLE=true",
		"LAKECTL_PIPELINE=" + dir, "LAKECTL_LAKE=s3://" + srv.Bucket + "/" + s3server.UniquePrefix(t),
		"XDG_CACHE_HOME=" + cacheDir,
	}
	mustLakectlEnv(t, env, "ref", "load", "users")
	mustLakectlEnv(t, env, "ref", "load", "plans")
	cached := func() int {
		return len(cachedDataFiles(t, cacheDir))
	}
	for _, tt := range []struct {
		sql     string
		cached  int
		explain []string
	}{
		{"SELECT count(*) AS n FROM ref.users", 1, []string{"ref.users v0: reads 1 of 1 files", "; 1 files downloaded"}},
		{"SELECT count(*) AS n FROM ref.users JOIN ref.plans ON true", 2, []string{"ref.plans v0: reads 1 of 1 files", "; 1 files downloaded", "ref.users v0: reads 1 of 1 files", "; 0 files downloaded"}},
	} {
		res := runLakectlEnv(t, env, "query", "--explain", "--format", "csv", tt.sql)
		if res.exitCode != 0 || res.stdout != "n\n2\n" {
			t.Errorf("%s: exit %d, %q, want n=2\nstderr: %s", tt.sql, res.exitCode, res.stdout, res.stderr)
		}
		if got := cached(); got != tt.cached {
			t.Errorf("after %s: %d data files in the cache, want %d", tt.sql, got, tt.cached)
		}
		// The lines in table order, each with what it downloaded.
		rest := res.stderr
		for _, want := range tt.explain {
			i := strings.Index(rest, want)
			if i < 0 {
				t.Errorf("%s: explain %q lacks %q in order", tt.sql, res.stderr, want)
				break
			}
			rest = rest[i+len(want):]
		}
	}
}

// cachedDataFiles are the data files that lakectl's caches under dir hold: the regular
// files, not the links the cache names after the files' keys.
func cachedDataFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && strings.HasSuffix(p, ".parquet") {
			out = append(out, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
