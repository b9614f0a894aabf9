package layout

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports keeps layout small enough for every reader of Bronze to import: the
// lake package and the standard library, nothing else.
func TestImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, "github.com/lakectl/lakectl/bronze/layout").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.Contains(strings.Split(pkg, "/")[0], ".") && pkg != "github.com/lakectl/lakectl/lake" {
			t.Errorf("layout imports %s; only lake and the standard library belong here", pkg)
		}
	}
}
