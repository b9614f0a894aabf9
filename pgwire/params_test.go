package pgwire

import "testing"

func TestBindParams(t *testing.T) {
	sql := `SELECT '$1 stays', "col$2", $2 + $1 FROM t WHERE a = $1 -- $3 in a comment`
	if got := paramCount(sql); got != 2 {
		t.Errorf("paramCount: got %d, want 2", got)
	}
	got := bindParams(sql, []string{quoteLiteral("it's"), "NULL"})
	want := `SELECT '$1 stays', "col$2", NULL + 'it''s' FROM t WHERE a = 'it''s' -- $3 in a comment`
	if got != want {
		t.Errorf("bindParams:\n got %s\nwant %s", got, want)
	}
}
