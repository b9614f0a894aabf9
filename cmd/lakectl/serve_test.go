package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/lakectl/lakectl/pipeline"
)

// Tokens come from lakectl.yaml, and the environment overrides them.
func TestServeAuthFromFileAndEnvironment(t *testing.T) {
	p := &pipeline.Pipeline{
		Consumers: []pipeline.Consumer{{Name: "ops-dashboard", Token: "from-file"}, {Name: "product", Token: "file"}, {Name: "finance"}},
		Serve:     pipeline.Serve{MetricsToken: "m-file"},
	}
	env := map[string]string{"LAKECTL_TOKEN_PRODUCT": "from-env", "LAKECTL_METRICS_TOKEN": "m-env"}
	a := serveAuth(p, func(k string) string { return env[k] })
	want := map[string]string{"ops-dashboard": "from-file", "product": "from-env"}
	if len(a.Tokens) != len(want) || a.Tokens["ops-dashboard"] != want["ops-dashboard"] || a.Tokens["product"] != want["product"] {
		t.Errorf("tokens %v, want %v", a.Tokens, want)
	}
	if a.MetricsToken != "m-env" {
		t.Errorf("metrics token %q, want the environment's", a.MetricsToken)
	}
	parsed, err := pipeline.Parse("lakectl.yaml", []byte("store: lake\nserve:\n  metrics_token: m\nconsumers:\n  c:\n    reads: [views.v]\n    freshness: 1h\n    token: t\n"), pipeline.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if a := serveAuth(parsed, func(string) string { return "" }); a.Tokens["c"] != "t" || a.MetricsToken != "m" {
		t.Errorf("from lakectl.yaml: %+v", a)
	}
}

// freeAddr is a loopback address that nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServe starts lakectl serve with args and env and waits until it answers.
func startServe(t *testing.T, addr string, env []string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(lakectlBin, append([]string{"serve", "--http", addr}, args...)...)
	cmd.Env = append(cmd.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			return cmd, &stderr
		}
		if cmd.ProcessState != nil {
			t.Fatalf("serve exited: %s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// serve --ingest takes events over HTTP into Bronze in the same process, which the
// status page then shows, and stops cleanly on SIGTERM.
func TestServeIngest(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "p")
	mustLakectl(t, "init", dir)
	yaml := filepath.Join(dir, "lakectl.yaml")
	b, err := os.ReadFile(yaml)
	if err != nil {
		t.Fatal(err)
	}
	// HTTP ingest alone: no Kafka broker runs here.
	b = bytes.Replace(b, []byte("brokers: [localhost:9092]"), []byte("brokers: []"), 1)
	if err := os.WriteFile(yaml, b, 0o644); err != nil {
		t.Fatal(err)
	}
	addr, ingestAddr := freeAddr(t), freeAddr(t)
	cmd, stderr := startServe(t, addr, []string{"LAKECTL_HTTP=" + ingestAddr}, "-p", dir, "--ingest", "--poll", "1h")
	var resp *http.Response
	for {
		resp, err = http.Post("http://"+ingestAddr+"/v1/streams/events/events", "application/x-ndjson",
			strings.NewReader(`{"event_id":"e1","user_id":"u1","event_type":"click","timestamp":"2026-11-20T08:00:00Z"}`+"\n"))
		if err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond) // ingest's listener comes up beside serve's
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"accepted":1`) {
		t.Fatalf("ingest: %s %s\n%s", resp.Status, body, stderr)
	}
	page, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if !strings.Contains(string(html), "<tr><td>events</td><td>0</td>") {
		t.Errorf("the status page does not show bronze/events at v0:\n%s", html)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("serve --ingest after SIGTERM: %v\n%s", err, stderr)
	}
}

// lakectl serve over a new pipeline: healthy, its tasks in status, tokens from the
// environment enforced, and on SIGTERM it exits 0.
func TestServeProcess(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "p")
	mustLakectl(t, "init", dir)
	addr := freeAddr(t)
	cmd, stderr := startServe(t, addr, []string{"LAKECTL_TOKEN_PRODUCT=p-secret", "LAKECTL_METRICS_TOKEN=m-secret"}, "-p", dir, "--poll", "1h")
	base := "http://" + addr
	call := func(path, token string) (int, []byte) {
		req, _ := http.NewRequest("GET", base+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	if code, _ := call("/v1/status", ""); code != 401 {
		t.Errorf("status without a token: %d, want 401", code)
	}
	if code, _ := call("/metrics", "p-secret"); code != 401 {
		t.Errorf("metrics with a consumer's token: %d, want 401", code)
	}
	code, body := call("/v1/status", "p-secret")
	var st struct {
		Tasks []struct{ Name string } `json:"tasks"`
	}
	if err := json.Unmarshal(body, &st); err != nil || code != 200 {
		t.Fatalf("status: %d %v: %s", code, err, body)
	}
	var names []string
	for _, tk := range st.Tasks {
		names = append(names, tk.Name)
	}
	for _, want := range []string{"silver/events", "gold", "views/realtime_kpis", "views/hourly_trends", "views/daily_summary"} {
		if !strings.Contains(strings.Join(names, " "), want) {
			t.Errorf("tasks %v lack %s", names, want)
		}
	}
	if code, body := call("/metrics", "m-secret"); code != 200 || !strings.Contains(string(body), "lakectl_serve_consumer_slo_seconds") {
		t.Errorf("metrics: %d %s", code, body)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("serve after SIGTERM: %v\n%s", err, stderr.String())
	}
}

// TestServePostgres: serve --pg lets a consumer in as its name with its token as the
// password, answers its queries, and refuses a wrong password and a table the
// consumer does not declare.
func TestServePostgres(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "p")
	mustLakectl(t, "init", dir)
	pgAddr := freeAddr(t)
	cmd, stderr := startServe(t, freeAddr(t), []string{"LAKECTL_TOKEN_PRODUCT=p-secret"}, "-p", dir, "--poll", "1h", "--pg", pgAddr)
	url := func(password string) string {
		return "postgres://product:" + password + "@" + pgAddr + "/lake?sslmode=disable"
	}
	ctx := t.Context()
	var conn *pgx.Conn
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		var err error
		if conn, err = pgx.Connect(ctx, url("p-secret")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("connect: %v\n%s", err, stderr.String())
		}
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT 41 + 1").Scan(&n); err != nil || n != 42 {
		t.Errorf("SELECT 41 + 1: %d, %v", n, err)
	}
	var pgErr *pgconn.PgError
	if _, err := conn.Exec(ctx, "SELECT count(*) FROM silver.events"); !errors.As(err, &pgErr) || pgErr.Code != "42501" {
		t.Errorf("a table product does not declare: %v, want SQLSTATE 42501", err)
	}
	if c, err := pgx.Connect(ctx, url("wrong")); err == nil {
		c.Close(ctx)
		t.Error("a wrong password was let in")
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("serve after SIGTERM: %v\n%s", err, stderr.String())
	}
}
