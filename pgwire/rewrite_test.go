package pgwire

import "testing"

func TestRewrite(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`SELECT c.relname FROM pg_catalog.pg_class c WHERE c.relname OPERATOR(pg_catalog.~) '^(kpis)$' COLLATE pg_catalog.default`,
			`SELECT c.relname FROM pg_class c WHERE c.relname  ~  '(?s).*(?:^(kpis)$).*' `},
		{`SELECT 'pg_catalog.x', "information_schema_y" FROM information_schema.tables -- pg_catalog.z`,
			`SELECT 'pg_catalog.x', "information_schema_y" FROM lakectl_is.tables -- pg_catalog.z`},
		// HoneySQL (Metabase) quotes every name.
		{`SELECT "c"."relname" FROM "pg_catalog"."pg_class" AS "c", "information_schema"."columns"`,
			`SELECT "c"."relname" FROM "pg_class" AS "c", lakectl_is."columns"`},
		{`SELECT n.nspname !~ '^pg_', a ~~ 'x%' FROM t`, `SELECT n.nspname !~ '(?s).*(?:^pg_).*', a ~~ 'x%' FROM t`},
		{`d.classoid = 'pg_class'::regclass AND c.oid = 'views.kpis'::pg_catalog.regclass`,
			`d.classoid = 1259 AND c.oid = 975984590`},
		{`SELECT 'it''s pg_catalog.x'`, `SELECT 'it''s pg_catalog.x'`},
		{`LEFT JOIN pg_attribute a ON t.oid = a.attrelid AND a.attnum = ANY(ix.indkey) WHERE relkind = ANY (ARRAY['r'])`,
			`LEFT JOIN pg_attribute a ON t.oid = a.attrelid AND list_contains(ix.indkey, a.attnum) WHERE relkind = ANY (ARRAY['r'])`},
		{`SELECT FORMAT('%s', x), format_type(t, m)`, `SELECT pg_format('%s', x), format_type(t, m)`},
		{`COL_DESCRIPTION(CAST(CAST(FORMAT('%I.%I', CAST("s" AS TEXT), t) AS REGCLASS) AS OID), 1)`,
			`COL_DESCRIPTION(CAST(regclass_in(pg_format('%I.%I', CAST("s" AS TEXT), t)) AS OID), 1)`},
		{`CAST('views.kpis' AS pg_catalog.regclass)`, `regclass_in('views.kpis')`},
		{`SELECT json_build_object('always', x = 'a', 'start', s.seqstart)`, `SELECT json_object('always', x = 'a', 'start', s.seqstart)`},
	} {
		if got := rewrite(tc.in); got != tc.want {
			t.Errorf("rewrite(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

func TestRewriteFromFunctions(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`SELECT s[i] FROM generate_series(1, 2) as i, string_to_array(current_setting('a,b'),',') s`,
			`SELECT s[i] FROM (SELECT unnest(generate_series(1, 2))) AS i(i), (SELECT string_to_array(current_setting('a,b'),',')) AS s(s)`},
		{`SELECT 1 FROM t JOIN pg_catalog.generate_series(1, pg_catalog.array_upper(x, 1)) s ON true`,
			`SELECT 1 FROM t JOIN (SELECT unnest(generate_series(1, pg_catalog.array_upper(x, 1)))) AS s(s) ON true`},
		// Not in FROM, a column list already, or no alias: left as they are.
		{`SELECT string_to_array(x, ',') AS parts, generate_series(1, 3) g FROM t`,
			`SELECT string_to_array(x, ',') AS parts, generate_series(1, 3) g FROM t`},
		{`SELECT * FROM unnest(a) AS u(x), generate_series(1, 2) WHERE true`,
			`SELECT * FROM unnest(a) AS u(x), generate_series(1, 2) WHERE true`},
	} {
		if got := rewriteFromFunctions(tc.in); got != tc.want {
			t.Errorf("rewriteFromFunctions(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}
