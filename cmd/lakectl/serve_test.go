package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

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

// lakectl serve over a new pipeline: healthy, its tasks in status, tokens from the
// environment enforced, and on SIGTERM it exits 0.
func TestServeProcess(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "p")
	mustLakectl(t, "init", dir)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(lakectlBin, "serve", "-p", dir, "--http", addr, "--poll", "1h")
	cmd.Env = append(cmd.Environ(), "LAKECTL_TOKEN_PRODUCT=p-secret", "LAKECTL_METRICS_TOKEN=m-secret")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	base := "http://" + addr
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if cmd.ProcessState != nil {
			t.Fatalf("serve exited: %s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
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
