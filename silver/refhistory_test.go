package silver

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/cache"
	"github.com/lakectl/lakectl/lake/fs"
	"github.com/lakectl/lakectl/pipeline"
)

// refLake is a file lake for loading reference tables.
type refLake struct {
	t     *testing.T
	store lake.Store
	sess  *engine.Session
	dir   string
}

func newRefLake(t *testing.T) *refLake {
	t.Helper()
	sess, err := engine.Open(t.Context(), engine.Config{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	dir := t.TempDir()
	store, err := fs.New(filepath.Join(dir, "lake"))
	if err != nil {
		t.Fatal(err)
	}
	return &refLake{t: t, store: store, sess: sess, dir: dir}
}

// file writes a reference file and returns its path.
func (l *refLake) file(name, content string) string {
	l.t.Helper()
	path := filepath.Join(l.dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		l.t.Fatal(err)
	}
	return path
}

// rows lists ref/<name> as "key plan [from, to)" lines, sorted; an empty bound is
// since ever or open.
func (l *refLake) rows(name string) []string {
	l.t.Helper()
	ctx := l.t.Context()
	rt := lake.NewTable(l.store, RefRoot(name))
	snap, err := rt.Latest(ctx)
	if err != nil {
		l.t.Fatal(err)
	}
	if err := l.sess.RegisterTable(ctx, "got", name, snap, engine.TableFiles(rt, cache.New(l.store, "", 0))); err != nil {
		l.t.Fatal(err)
	}
	rows, err := l.sess.QueryContext(ctx, `SELECT user_id || ' ' || plan || ' [' || coalesce(strftime(_valid_from, '%H:%M'), '') || ', ' ||
  coalesce(strftime(_valid_to, '%H:%M'), '') || ')' FROM got.`+name+` ORDER BY 1`)
	if err != nil {
		l.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			l.t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// TestRefLoadKeepsHistory: each snapshot load is a version; rows it changes or drops
// end at its valid-from time, its changed rows start there, unchanged rows stay
// open, and a key never seen before is valid since ever. A load that does not start
// after the history is refused.
func TestRefLoadKeepsHistory(t *testing.T) {
	l := newRefLake(t)
	ctx := t.Context()
	spec := RefSpec{Name: "users", Key: "user_id", File: l.file("v1.csv", "user_id,plan\nu1,free\nu2,pro\nu4,free\n")}
	first, err := LoadRef(ctx, l.store, l.sess, spec, ts("2026-11-21T08:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	if first.Version != 0 || first.Opened != 3 || first.Closed != 0 {
		t.Errorf("first load = %+v, want v0 with 3 rows opened", first)
	}
	spec.File, spec.ValidFrom = l.file("v2.csv", "user_id,plan\nu1,pro\nu2,pro\nu3,free\n"), ts("2026-11-21T12:00:00Z")
	second, err := LoadRef(ctx, l.store, l.sess, spec, ts("2026-11-21T15:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	if second.Version != 1 || second.Opened != 2 || second.Closed != 2 || !second.ValidFrom.Equal(ts("2026-11-21T12:00:00Z")) {
		t.Errorf("second load = %+v, want v1 valid from 12:00, 2 rows opened (u1, u3), 2 closed (u1, u4)", second)
	}
	want := []string{"u1 free [, 12:00)", "u1 pro [12:00, )", "u2 pro [, )", "u3 free [, )", "u4 free [, 12:00)"}
	if got := l.rows("users"); !slices.Equal(got, want) {
		t.Errorf("ref/users = %q, want %q", got, want)
	}
	// Without --valid-from a load is valid from its own time.
	spec.File, spec.ValidFrom = l.file("v3.csv", "user_id,plan\nu1,pro\nu2,free\nu3,free\n"), time.Time{}
	if _, err := LoadRef(ctx, l.store, l.sess, spec, ts("2026-11-21T16:30:00Z")); err != nil {
		t.Fatal(err)
	}
	want = []string{"u1 free [, 12:00)", "u1 pro [12:00, )", "u2 free [16:30, )", "u2 pro [, 16:30)", "u3 free [, )", "u4 free [, 12:00)"}
	if got := l.rows("users"); !slices.Equal(got, want) {
		t.Errorf("ref/users after a load at 16:30 = %q, want %q", got, want)
	}
	spec.ValidFrom = ts("2026-11-21T16:00:00Z")
	_, err = LoadRef(ctx, l.store, l.sess, spec, ts("2026-11-21T17:00:00Z"))
	if err == nil || !strings.Contains(err.Error(), "valid from 2026-11-21T16:00:00Z") || !strings.Contains(err.Error(), "2026-11-21T16:30:00Z") {
		t.Errorf("a load valid from before the last version: err = %v, want one naming both times", err)
	}
}

// TestRefLoadOverlap: a load after which two rows of one key would be valid at once
// is refused with an error naming the key, and commits nothing.
func TestRefLoadOverlap(t *testing.T) {
	cases := []struct {
		name, csv string
		typeTwo   bool
		want      string
	}{
		{"snapshot with a repeated key", "user_id,plan\nu1,free\nu2,pro\nu2,free\n", false,
			`user_id "u2" has overlapping validity: [since ever, open) and [since ever, open)`},
		{"type 2, overlapping", "user_id,plan,since,until\nu1,free,2026-01-01,2026-03-01\nu7,free,2026-01-01,2026-03-01\nu7,pro,2026-02-01,\n", true,
			`user_id "u7" has overlapping validity: [2026-01-01 00:00:00+00, 2026-03-01 00:00:00+00) and [2026-02-01 00:00:00+00, open)`},
		{"type 2, two open rows", "user_id,plan,since,until\nu7,free,2026-01-01,\nu7,pro,2026-02-01,9999-12-31\n", true,
			`user_id "u7" has overlapping validity: [2026-01-01 00:00:00+00, open) and [2026-02-01 00:00:00+00, open)`},
		{"type 2, ends before it starts", "user_id,plan,since,until\nu7,free,2026-03-01,2026-02-01\n", true,
			`user_id "u7" has overlapping validity`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := newRefLake(t)
			spec := RefSpec{Name: "users", Key: "user_id", File: l.file("users.csv", tc.csv)}
			if tc.typeTwo {
				spec.ValidFromColumn, spec.ValidToColumn = "since", "until"
			}
			_, err := LoadRef(t.Context(), l.store, l.sess, spec, ts("2026-11-21T08:00:00Z"))
			var oerr *RefOverlapError
			if !errors.As(err, &oerr) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want a *RefOverlapError saying %s", err, tc.want)
			}
			if _, err := lake.NewTable(l.store, RefRoot("users")).Latest(t.Context()); !errors.Is(err, lake.ErrNoTable) {
				t.Errorf("ref/users after the refused load: %v, want no table", err)
			}
		})
	}
}

// TestRefLoadTypeTwo: a type-2 file's validity columns become the table's, an end of
// 9999-12-31 is open, and a --valid-from time is refused for it.
func TestRefLoadTypeTwo(t *testing.T) {
	l := newRefLake(t)
	spec := RefSpec{Name: "users", Key: "user_id", ValidFromColumn: "since", ValidToColumn: "until",
		File: l.file("users.csv", "user_id,plan,since,until\nu1,free,2026-11-21T08:00:00Z,2026-11-21T12:00:00Z\nu1,pro,2026-11-21T12:00:00Z,9999-12-31\nu2,pro,,\n")}
	if _, err := LoadRef(t.Context(), l.store, l.sess, spec, ts("2026-11-22T00:00:00Z")); err != nil {
		t.Fatal(err)
	}
	want := []string{"u1 free [08:00, 12:00)", "u1 pro [12:00, )", "u2 pro [, )"}
	if got := l.rows("users"); !slices.Equal(got, want) {
		t.Errorf("ref/users = %q, want %q", got, want)
	}
	spec.ValidFrom = ts("2026-11-22T00:00:00Z")
	if _, err := LoadRef(t.Context(), l.store, l.sess, spec, ts("2026-11-22T00:00:00Z")); err == nil || !strings.Contains(err.Error(), "since and until") {
		t.Errorf("type-2 load with a valid-from time: err = %v, want one naming the file's validity columns", err)
	}
}

// TestRefLoadOverUnversioned: a reference table loaded before references kept history
// (no validity columns) is joined as valid since ever, and the next load turns it
// into history: its rows end where the new version starts.
func TestRefLoadOverUnversioned(t *testing.T) {
	l := newRefLake(t)
	ctx := t.Context()
	writeUnversionedRef(t, l.sess, l.store, "users", `SELECT * FROM (VALUES ('u1', 'free'), ('u2', 'pro')) v(user_id, plan)`)
	spec := RefSpec{Name: "users", Key: "user_id", File: l.file("v2.csv", "user_id,plan\nu1,pro\nu2,pro\n"), ValidFrom: ts("2026-11-21T12:00:00Z")}
	if _, err := LoadRef(ctx, l.store, l.sess, spec, ts("2026-11-21T13:00:00Z")); err != nil {
		t.Fatal(err)
	}
	want := []string{"u1 free [, 12:00)", "u1 pro [12:00, )", "u2 pro [, )"}
	if got := l.rows("users"); !slices.Equal(got, want) {
		t.Errorf("ref/users = %q, want %q", got, want)
	}
}

// writeUnversionedRef commits the rows of query as the next version of ref/<name> the
// way lakectl wrote references before they kept history: the rows alone.
func writeUnversionedRef(t *testing.T, sess *engine.Session, store lake.Store, name, query string) {
	t.Helper()
	ctx := t.Context()
	rt := lake.NewTable(store, RefRoot(name))
	snap, err := latestOrNil(ctx, rt)
	if err != nil {
		t.Fatal(err)
	}
	adds, err := sess.WriteFiles(ctx, rt, nil, query)
	if err != nil {
		t.Fatal(err)
	}
	schema, err := sess.QuerySchema(ctx, query)
	if err != nil {
		t.Fatal(err)
	}
	schemaJSON, err := schema.JSON()
	if err != nil {
		t.Fatal(err)
	}
	tx := rt.Begin(snap)
	md := lake.Metadata{Name: name, Format: lake.Format{Provider: "parquet", Options: map[string]string{}},
		SchemaString: schemaJSON, Configuration: map[string]string{}}
	if snap != nil {
		md.ID = snap.Metadata.ID
		for _, a := range snap.Files() {
			tx.Remove(a.RemoveAt(time.Now()))
		}
	}
	tx.SetMetadata(md)
	tx.Add(adds...)
	if _, err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestJoinUnversionedRef: a run joins a reference written before references kept
// history as valid since ever, at the event's time as at the current one.
func TestJoinUnversionedRef(t *testing.T) {
	for _, asOf := range []string{pipeline.AsOfEventTime, pipeline.AsOfCurrent} {
		t.Run(asOf, func(t *testing.T) {
			l := newTestLake(t)
			l.p.Table("events").Enrich[0].AsOf = asOf
			writeUnversionedRef(t, l.sess, l.store, "users", `SELECT * FROM (VALUES ('u1', 'CA', 'gold'), ('u3', 'NL', 'team')) v(user_id, country, plan)`)
			l.ingest(hour12(), ts("2026-11-21T13:10:00Z"))
			if _, err := l.job().RunHour(t.Context(), "events", hourAt("2026-11-21T12"), RunOptions{}); err != nil {
				t.Fatal(err)
			}
			if got, want := l.plans(), "e1=team e2=team e3=team e4=gold"; got != want {
				t.Errorf("plans = %s, want %s", got, want)
			}
		})
	}
}
