package deltatest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/mem"
)

// CheckChaosTable checks the table at root in store against the writers' plans, as
// Chaos describes, and returns its latest snapshot.
func CheckChaosTable(t *testing.T, store lake.Store, root string, plans [][]chaosWrite) *lake.Snapshot {
	t.Helper()
	ctx := t.Context()
	r, err := ReplayJSON(ctx, store, root, -1)
	if err != nil {
		t.Fatal(err)
	}
	tbl := lake.NewTable(store, root)
	snap, err := tbl.Latest(ctx)
	if err != nil {
		t.Fatalf("latest: %v", err)
	}
	if snap.Version != r.Latest {
		t.Errorf("latest = v%d, the log's newest commit is v%d", snap.Version, r.Latest)
	}
	if got, want := SnapshotDigest(snap), r.Digest(); got != want {
		t.Errorf("latest snapshot differs from the JSON replay:\n%s\nwant\n%s", got, want)
	}

	wantAdds, wantRemoves, wantTxns := map[string]int{}, map[string]int{}, map[string]int64{}
	for w, plan := range plans {
		for _, cw := range plan {
			switch cw.kind {
			case removeFile:
				wantRemoves[cw.target]++
			case keyedAppend:
				wantTxns[fmt.Sprintf("writer-%d", w)] = cw.seq
				wantAdds[cw.tag]++
			default:
				wantAdds[cw.tag]++
			}
		}
	}
	if d := diffCounts(r.Adds, wantAdds); d != "" {
		t.Errorf("adds per logical write (want each exactly once):\n%s", d)
	}
	if d := diffCounts(r.Removes, wantRemoves); d != "" {
		t.Errorf("removes per logical write:\n%s", d)
	}
	live := map[string]int{}
	for _, a := range snap.Files() {
		live[a.Tags["write"]]++
		if _, err := store.Stat(ctx, tbl.Key(a.DecodedPath())); err != nil {
			t.Errorf("live file %s (write %s): %v", a.Path, a.Tags["write"], err)
		}
	}
	wantLive := map[string]int{}
	for tag := range wantAdds {
		if wantRemoves[tag] == 0 {
			wantLive[tag] = 1
		}
	}
	if d := diffCounts(live, wantLive); d != "" {
		t.Errorf("live files per logical write:\n%s", d)
	}
	got := snap.Txns()
	if fmt.Sprint(got) != fmt.Sprint(wantTxns) {
		t.Errorf("txns = %v, want %v (each writer's last keyed write)", got, wantTxns)
	}
	return snap
}

// checkCheckpoints checks every checkpoint in the log on its own: copied alone into an
// empty store, it must load, and its state must equal the JSON replay at its version
// (or, when want is given, want's digest of that version). _last_checkpoint must be
// absent or name one of them. It returns the digests by version.
func checkCheckpoints(t *testing.T, store lake.Store, root string, want map[int64]string) map[int64]string {
	t.Helper()
	ctx := t.Context()
	prefix := root + "/_delta_log/"
	objs, err := store.List(ctx, prefix, "")
	if err != nil {
		t.Fatal(err)
	}
	digests := map[int64]string{}
	for _, o := range objs {
		digits, ok := strings.CutSuffix(strings.TrimPrefix(o.Key, prefix), ".checkpoint.parquet")
		if !ok {
			continue
		}
		v, err := strconv.ParseInt(digits, 10, 64)
		if err != nil {
			t.Errorf("checkpoint name %s: %v", o.Key, err)
			continue
		}
		data, err := lake.ReadAll(ctx, store, o.Key)
		if err != nil {
			t.Fatal(err)
		}
		alone := mem.New()
		if err := alone.Put(ctx, o.Key, strings.NewReader(string(data)), int64(len(data))); err != nil {
			t.Fatal(err)
		}
		s, err := lake.NewTable(alone, root).At(ctx, v)
		if err != nil {
			t.Errorf("checkpoint v%d alone: %v", v, err)
			continue
		}
		digests[v] = SnapshotDigest(s)
		var wantDigest string
		if want != nil {
			wantDigest = want[v]
		} else {
			r, err := ReplayJSON(ctx, store, root, v)
			if err != nil {
				t.Fatal(err)
			}
			wantDigest = r.Digest()
		}
		if digests[v] != wantDigest {
			t.Errorf("checkpoint v%d differs from the JSON replay:\n%s\nwant\n%s", v, digests[v], wantDigest)
		}
	}
	versions := make([]int64, 0, len(digests))
	for v := range digests {
		versions = append(versions, v)
	}
	sort.Slice(versions, func(i, j int) bool { return versions[i] < versions[j] })
	t.Logf("checkpoints: %v", versions)

	hint, err := lake.ReadAll(ctx, store, prefix+"_last_checkpoint")
	if errors.Is(err, fs.ErrNotExist) {
		return digests
	}
	if err != nil {
		t.Fatal(err)
	}
	var lc struct{ Version int64 }
	if err := json.Unmarshal(hint, &lc); err != nil {
		t.Errorf("_last_checkpoint %q: %v", hint, err)
	} else if _, ok := digests[lc.Version]; !ok {
		t.Errorf("_last_checkpoint names v%d, which has no readable checkpoint (have %v)", lc.Version, versions)
	}
	return digests
}

// sameState checks that the latest snapshot of tbl equals want, and returns it.
func sameState(t *testing.T, tbl *lake.Table, want *lake.Snapshot, when string) *lake.Snapshot {
	t.Helper()
	s, err := tbl.Latest(t.Context())
	if err != nil {
		t.Fatalf("%s: latest: %v", when, err)
	}
	if s.Version != want.Version || SnapshotDigest(s) != SnapshotDigest(want) {
		t.Fatalf("%s: latest v%d differs from v%d before:\n%s\nwant\n%s", when, s.Version, want.Version, SnapshotDigest(s), SnapshotDigest(want))
	}
	return s
}

// checkNoOrphans checks that the table's data files are exactly the live files of s.
func checkNoOrphans(t *testing.T, store lake.Store, root string, s *lake.Snapshot) {
	t.Helper()
	objs, err := store.List(t.Context(), root+"/", "")
	if err != nil {
		t.Fatal(err)
	}
	got, want := map[string]int{}, map[string]int{}
	for _, o := range objs {
		rel := strings.TrimPrefix(o.Key, root+"/")
		if !strings.HasPrefix(rel, "_") {
			got[rel]++
		}
	}
	for _, a := range s.Files() {
		want[a.DecodedPath()]++
	}
	if d := diffCounts(got, want); d != "" {
		t.Errorf("data files after vacuum differ from the live files:\n%s", d)
	}
}
