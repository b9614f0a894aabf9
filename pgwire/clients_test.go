package pgwire_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lakectl/lakectl/pgwire"
)

// The BI tools' own client libraries, run against the Postgres port: what each one
// prints is its golden file. The probes do what the tools do when a database is
// added: Metabase through the PostgreSQL JDBC driver (testdata/jdbc/Probe.java),
// Superset through SQLAlchemy and psycopg2 (testdata/sqlalchemy/probe.py). Grafana's
// queries are in TestGrafanaQueries.

const (
	jdbcJar = "/usr/share/java/postgresql.jar"
	// debianPython is Debian's python3, for which python3-sqlalchemy and
	// python3-psycopg2 are installed (a pyenv python on PATH has neither).
	debianPython = "/usr/bin/python3"
)

// Metabase's sync lists the dashboard user's schemas, tables and columns, selects
// from each table and reads a view with a prepared statement; Silver is neither
// listed nor readable.
func TestJDBCMetabase(t *testing.T) {
	java := needTool(t, "java", "default-jre-headless")
	needFile(t, jdbcJar, "libpostgresql-jdbc-java")
	addr := startServer(t, testLake(t), pgwire.Config{})
	// UTC: Java writes a timestamp in its own zone.
	out := runProbe(t, addr, java, "-Duser.timezone=UTC", "-cp", jdbcJar, filepath.Join("testdata", "jdbc", "Probe.java"), addr, dashboardUser, filepath.Join("testdata", "jdbc", "metabase"))
	checkGolden(t, filepath.Join("testdata", "jdbc", "metabase.out"), out)
}

// Superset's inspection of a new database and dataset: schemas, tables, views,
// columns, keys and indexes of the dashboard user's tables, then a query with a
// LIMIT; Silver is neither listed nor readable.
func TestSQLAlchemySuperset(t *testing.T) {
	python := needTool(t, debianPython, "python3")
	if err := exec.Command(python, "-c", "import sqlalchemy, psycopg2").Run(); err != nil {
		missing(t, "SQLAlchemy or psycopg2 for "+python, "python3-sqlalchemy python3-psycopg2")
	}
	addr := startServer(t, testLake(t), pgwire.Config{})
	out := runProbe(t, addr, python, filepath.Join("testdata", "sqlalchemy", "probe.py"), addr, dashboardUser)
	checkGolden(t, filepath.Join("testdata", "sqlalchemy", "superset.out"), out)
}

// runProbe runs a client probe with the dashboard user's password in its
// environment, and returns its output with the server's address made ADDR.
func runProbe(t *testing.T, addr, name string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), name, args...)
	cmd.Env = append(os.Environ(), "PGPASSWORD="+dashboardPassword)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", cmd, err, out, stderr.String())
	}
	return strings.ReplaceAll(string(out), addr, "ADDR")
}

// needTool is the path of a program the test runs: when it is missing, the test
// fails in CI, which installs the Debian package pkg (.ci/run), and skips elsewhere.
func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		missing(t, name, pkg)
	}
	return path
}

// needFile is needTool for a file, such as a library.
func needFile(t *testing.T, path, pkg string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		missing(t, path, pkg)
	}
}

func missing(t *testing.T, what, pkg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is missing: CI installs Debian's %s (.ci/run)", what, pkg)
	}
	t.Skipf("%s is missing: apt-get install %s", what, pkg)
}
