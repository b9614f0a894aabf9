package pgwire_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lakectl/lakectl/pgwire"
)

// psql lists and describes the dashboard user's tables, queries a view, and is
// refused a Silver table and a write: each command's output (stderr included) is
// its golden file in testdata/psql.
func TestPsqlGolden(t *testing.T) {
	psql := needTool(t, "psql", "postgresql-client")
	addr := startServer(t, testLake(t), pgwire.Config{})
	for _, tc := range []struct{ name, command string }{
		{"list_tables", `\dt`},
		{"list_schemas", `\dn`},
		{"describe_view", `\d views.kpis`},
		{"describe_gold", `\d gold.daily`},
		{"query_view", `SELECT day, events, revenue, label, even, tags FROM views.kpis ORDER BY day`},
		{"query_silver_refused", `SELECT user_id FROM silver.events`},
		{"write_refused", `DELETE FROM views.kpis`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// -X: no ~/.psqlrc; the password comes from the environment, not argv.
			cmd := exec.CommandContext(t.Context(), psql, "-X", "-P", "pager=off", "-v", "VERBOSITY=default", "-c", tc.command,
				connString(addr, dashboardUser, ""))
			cmd.Env = append(os.Environ(), "PGPASSWORD="+dashboardPassword, "PGSSLMODE=disable", "PGCONNECT_TIMEOUT=10")
			out, _ := cmd.CombinedOutput()
			checkGolden(t, filepath.Join("testdata", "psql", tc.name+".out"), strings.ReplaceAll(string(out), addr, "ADDR"))
		})
	}
}
