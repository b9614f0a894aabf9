package silver

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoIngestDependency keeps Silver a reader of Bronze: it learns the layout from
// bronze/layout and must not link the ingest service or the Kafka client.
func TestNoIngestDependency(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/lakectl/lakectl/silver").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == "github.com/lakectl/lakectl/bronze" || strings.HasPrefix(pkg, "github.com/twmb/franz-go") {
			t.Errorf("silver depends on %s; read the Bronze layout from bronze/layout instead", pkg)
		}
	}
}
