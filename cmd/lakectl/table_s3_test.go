package main

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/lakectl/lakectl/internal/s3server"
	"github.com/lakectl/lakectl/lake/s3"
)

// TestTableCommandsOnS3 runs the table commands against s3:// URLs of golden tables
// copied into a real S3 server (versitygw), credentials in the AWS_* variables.
func TestTableCommandsOnS3(t *testing.T) {
	golden := filepath.Join(sharedTestdata(t), "delta-golden")
	srv := s3server.Start(t, s3server.VersityGW)
	prefix := s3server.UniquePrefix(t)
	env := []string{"AWS_ACCESS_KEY_ID=" + srv.AccessKey, "AWS_SECRET_ACCESS_KEY=" + srv.SecretKey}
	tables := []string{"simple_table_with_checkpoint", "delta-0.8.0-null-partition", "delta-0.2.0"}
	for _, name := range tables {
		uploadTree(t, srv, prefix+"/"+name, filepath.Join(golden, name))
	}

	for _, name := range tables {
		t.Run("show "+name, func(t *testing.T) {
			out := mustLakectlEnv(t, env, "table", "show", srv.URL(prefix+"/"+name), "--json")
			checkShowGolden(t, filepath.Join(golden, name+".expected.json"), out)
		})
	}

	t.Run("history", func(t *testing.T) {
		name := "simple_table_with_checkpoint"
		out := mustLakectlEnv(t, env, "table", "history", srv.URL(prefix+"/"+name), "--json")
		var rows []historyRow
		if err := json.Unmarshal([]byte(out), &rows); err != nil {
			t.Fatal(err)
		}
		commits, err := filepath.Glob(filepath.Join(golden, name, "_delta_log", "*.json"))
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != len(commits) {
			t.Errorf("%d commits in history, want the %d JSON commits of the log", len(rows), len(commits))
		}
	})

	t.Run("vacuum dry run", func(t *testing.T) {
		// Every file was uploaded just now, so nothing is old enough to delete.
		out := mustLakectlEnv(t, env, "vacuum", srv.URL(prefix+"/simple_table_with_checkpoint"), "--dry-run")
		checkTotal(t, out, "would delete", 0)
	})

	t.Run("missing credentials", func(t *testing.T) {
		res := runLakectlEnv(t, []string{"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY="},
			"table", "show", srv.URL(prefix+"/delta-0.2.0"))
		if res.exitCode == 0 {
			t.Errorf("exit 0 with anonymous requests to a server that needs credentials:\n%s", res.stdout)
		}
	})
}

// uploadTree puts every file under dir into the server's bucket under prefix.
func uploadTree(t *testing.T, srv *s3server.Server, prefix, dir string) {
	t.Helper()
	store, err := s3.New(srv.Config(prefix))
	if err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		info, err := f.Stat()
		if err != nil {
			return err
		}
		return store.Put(t.Context(), filepath.ToSlash(rel), f, info.Size())
	})
	if err != nil {
		t.Fatalf("upload %s: %v", dir, err)
	}
}
