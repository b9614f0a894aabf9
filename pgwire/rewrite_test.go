package pgwire

import "testing"

func TestRewrite(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`SELECT c.relname FROM pg_catalog.pg_class c WHERE c.relname OPERATOR(pg_catalog.~) '^(kpis)$' COLLATE pg_catalog.default`,
			`SELECT c.relname FROM pg_class c WHERE c.relname  ~  '(?s).*(?:^(kpis)$).*' `},
		{`SELECT 'pg_catalog.x', "information_schema".y FROM information_schema.tables -- pg_catalog.z`,
			`SELECT 'pg_catalog.x', "information_schema".y FROM lakectl_is.tables -- pg_catalog.z`},
		{`SELECT n.nspname !~ '^pg_', a ~~ 'x%' FROM t`, `SELECT n.nspname !~ '(?s).*(?:^pg_).*', a ~~ 'x%' FROM t`},
		{`d.classoid = 'pg_class'::regclass AND c.oid = 'views.kpis'::pg_catalog.regclass`,
			`d.classoid = 1259 AND c.oid = 975984590`},
		{`SELECT 'it''s pg_catalog.x'`, `SELECT 'it''s pg_catalog.x'`},
		{`LEFT JOIN pg_attribute a ON t.oid = a.attrelid AND a.attnum = ANY(ix.indkey) WHERE relkind = ANY (ARRAY['r'])`,
			`LEFT JOIN pg_attribute a ON t.oid = a.attrelid AND list_contains(ix.indkey, a.attnum) WHERE relkind = ANY (ARRAY['r'])`},
		{`SELECT json_build_object('always', x = 'a', 'start', s.seqstart)`, `SELECT json_object('always', x = 'a', 'start', s.seqstart)`},
	} {
		if got := rewrite(tc.in); got != tc.want {
			t.Errorf("rewrite(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}
