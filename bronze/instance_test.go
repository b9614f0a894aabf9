package bronze

import (
	"strings"
	"testing"
)

// TestClaimInstanceID: a claim is stable for a host and scope, concurrent claims get
// distinct slots, a released slot is claimed again, and another scope gets ids of
// its own.
func TestClaimInstanceID(t *testing.T) {
	dir := t.TempDir()
	claim := func(host, scope string) *InstanceClaim {
		t.Helper()
		c, err := ClaimInstanceID(dir, host, scope)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a := claim("web-1", "lakectl\nfile:///lake")
	b := claim("web-1", "lakectl\nfile:///lake")
	if a.Slot != 0 || b.Slot != 1 || a.ID == b.ID {
		t.Fatalf("two live claims: %q (slot %d) and %q (slot %d), want slots 0 and 1 and distinct ids", a.ID, a.Slot, b.ID, b.Slot)
	}
	if err := a.Release(); err != nil {
		t.Fatal(err)
	}
	again := claim("web-1", "lakectl\nfile:///lake")
	if again.ID != a.ID {
		t.Errorf("claim after release: %q, want the released %q", again.ID, a.ID)
	}
	other := claim("web-1", "lakectl\nfile:///other")
	if other.Slot != 0 || other.ID == a.ID {
		t.Errorf("claim for another lake: %q (slot %d), want slot 0 and an id of its own", other.ID, other.Slot)
	}
	odd := claim("host name/with:odd*chars", "x")
	if strings.ContainsAny(odd.ID, " /:*") || !strings.HasPrefix(odd.ID, "host_name_with_odd_chars-") {
		t.Errorf("id from an odd host name: %q, want only Kafka's id characters", odd.ID)
	}
	for _, c := range []*InstanceClaim{b, again, other, odd} {
		c.Release()
	}
}
