package pgwire

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"sync"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/engine/sqlfrag"
)

// Each session gets a PostgreSQL catalog of its own, made from the tables registered
// in it, which are the tables its user may read: pg_catalog's tables and functions
// that psql and BI tools read, in the schema catalogSchema, and information_schema's
// views in infoSchema (rewrite.go points the client's SQL at them). DuckDB has its own
// pg_catalog, but it lists DuckDB's system views as tables, its type OIDs are not
// PostgreSQL's, and it lacks the functions psql calls.
const (
	catalogSchema = "lakectl_pg"
	infoSchema    = "lakectl_is"
	// databaseName is the database every client is in, whatever it asked for.
	databaseName = "lakectl"
	// ownerName owns every table and schema; no role can be granted anything.
	ownerName = "lakectl"
)

// firstOID is the smallest OID of a lake's schema or table: PostgreSQL's own objects
// are below it.
const firstOID = 16384

// relOID is a stable OID for a schema or table: clients look an OID up in one query
// and use it in the next, which runs in another session.
func relOID(kind, schema, name string) int64 {
	h := fnv.New32a()
	fmt.Fprintf(h, "%s\x00%s\x00%s", kind, schema, name)
	return firstOID + int64(h.Sum32()%(1<<30))
}

// lakeColumnsSQL lists the columns of the registered tables; it runs before the
// catalog's own schemas exist.
const lakeColumnsSQL = `SELECT schema_name, table_name, column_name, column_index, data_type,
	coalesce(numeric_precision, 0), coalesce(numeric_scale, 0), is_nullable
	FROM duckdb_columns() WHERE NOT internal AND database_name = current_database()
	ORDER BY schema_name, table_name, column_index`

// catalogSQL makes the catalog from lake_columns and pg_type, filled before it runs.
// The columns are those clients read; others are left out. Relations are stored in
// the order of their schemas, tables and columns, which is the order a query without
// ORDER BY lists them in (Grafana's column list has none), as PostgreSQL lists a
// table's columns in their order.
var catalogSQL = []string{
	`CREATE TABLE lakectl_pg.pg_namespace AS
		SELECT CAST(11 AS BIGINT) AS oid, 'pg_catalog' AS nspname, CAST(10 AS BIGINT) AS nspowner, CAST(NULL AS VARCHAR[]) AS nspacl
		UNION ALL SELECT DISTINCT nspoid, nspname, 10, NULL FROM lakectl_pg.lake_columns`,
	`CREATE TABLE lakectl_pg.pg_class AS
		SELECT reloid AS oid, relname, nspoid AS relnamespace, CAST(0 AS BIGINT) AS reltype, CAST(0 AS BIGINT) AS reloftype,
			CAST(10 AS BIGINT) AS relowner, CAST(2 AS BIGINT) AS relam, CAST(0 AS BIGINT) AS relfilenode,
			CAST(0 AS BIGINT) AS reltablespace, 0 AS relpages, CAST(-1 AS FLOAT) AS reltuples, 0 AS relallvisible,
			CAST(0 AS BIGINT) AS reltoastrelid, false AS relhasindex, false AS relisshared, 'p' AS relpersistence,
			'r' AS relkind, CAST(count(*) AS SMALLINT) AS relnatts, CAST(0 AS SMALLINT) AS relchecks,
			false AS relhasrules, false AS relhastriggers, false AS relhassubclass, false AS relrowsecurity,
			false AS relforcerowsecurity, true AS relispopulated, 'd' AS relreplident, false AS relispartition,
			CAST(0 AS BIGINT) AS relrewrite, CAST(NULL AS VARCHAR[]) AS relacl, CAST(NULL AS VARCHAR[]) AS reloptions,
			CAST(NULL AS VARCHAR) AS relpartbound
		FROM lakectl_pg.lake_columns GROUP BY ALL`,
	`CREATE TABLE lakectl_pg.pg_attribute AS
		SELECT c.reloid AS attrelid, c.attname, c.typoid AS atttypid, CAST(t.typlen AS SMALLINT) AS attlen,
			CAST(c.attnum AS SMALLINT) AS attnum, 0 AS attndims, c.typmod AS atttypmod, c.not_null AS attnotnull,
			false AS atthasdef, false AS atthasmissing, '' AS attidentity, '' AS attgenerated, false AS attisdropped,
			true AS attislocal, 0 AS attinhcount, CAST(0 AS BIGINT) AS attcollation, 'p' AS attstorage,
			'' AS attcompression, -1 AS attstattarget, CAST(NULL AS VARCHAR[]) AS attacl, CAST(NULL AS VARCHAR[]) AS attoptions,
			CAST(NULL AS VARCHAR[]) AS attfdwoptions
		FROM lakectl_pg.lake_columns c JOIN lakectl_pg.pg_type t ON t.oid = c.typoid ORDER BY c.reloid, c.attnum`,
	// The views of tables that Metabase reads: every table is a table, none a view.
	`CREATE TABLE lakectl_pg.pg_tables AS SELECT DISTINCT nspname AS schemaname, relname AS tablename,
		'lakectl' AS tableowner, CAST(NULL AS VARCHAR) AS tablespace, false AS hasindexes, false AS hasrules,
		false AS hastriggers, false AS rowsecurity FROM lakectl_pg.lake_columns ORDER BY schemaname, tablename`,
	`CREATE TABLE lakectl_pg.pg_views (schemaname VARCHAR, viewname VARCHAR, viewowner VARCHAR, definition VARCHAR)`,
	`CREATE TABLE lakectl_pg.pg_matviews (schemaname VARCHAR, matviewname VARCHAR, matviewowner VARCHAR,
		tablespace VARCHAR, hasindexes BOOLEAN, ispopulated BOOLEAN, definition VARCHAR)`,
	// Row counts are not known without reading a table: n_live_tup is NULL.
	`CREATE TABLE lakectl_pg.pg_stat_user_tables AS SELECT DISTINCT reloid AS relid, nspname AS schemaname,
		relname, CAST(NULL AS BIGINT) AS n_live_tup FROM lakectl_pg.lake_columns ORDER BY schemaname, relname`,
	`CREATE TABLE lakectl_pg.pg_am AS SELECT CAST(2 AS BIGINT) AS oid, 'heap' AS amname, 't' AS amtype`,
	`CREATE TABLE lakectl_pg.pg_database AS SELECT CAST(16383 AS BIGINT) AS oid, 'lakectl' AS datname,
		CAST(10 AS BIGINT) AS datdba, 6 AS encoding, 'C' AS datcollate, 'C' AS datctype, CAST(NULL AS VARCHAR) AS daticulocale, 'c' AS datlocprovider, false AS datistemplate,
		true AS datallowconn, CAST(NULL AS VARCHAR[]) AS datacl`,
	`CREATE TABLE lakectl_pg.pg_roles AS SELECT CAST(10 AS BIGINT) AS oid, 'lakectl' AS rolname, false AS rolsuper,
		false AS rolcreatedb, false AS rolcreaterole, true AS rolcanlogin`,
	`CREATE TABLE lakectl_pg.pg_user AS SELECT 'lakectl' AS usename, CAST(10 AS BIGINT) AS usesysid, false AS usesuper`,
	`CREATE TABLE lakectl_pg.pg_attrdef (oid BIGINT, adrelid BIGINT, adnum SMALLINT, adbin VARCHAR)`,
	`CREATE TABLE lakectl_pg.pg_collation (oid BIGINT, collname VARCHAR, collnamespace BIGINT)`,
	// No table has constraints or indexes; their catalogs have all of PostgreSQL 15's
	// columns, so that any client's query of them binds.
	`CREATE TABLE lakectl_pg.pg_constraint (oid BIGINT, conname VARCHAR, connamespace BIGINT, contype VARCHAR,
		condeferrable BOOLEAN, condeferred BOOLEAN, convalidated BOOLEAN, conrelid BIGINT, contypid BIGINT,
		conindid BIGINT, conparentid BIGINT, confrelid BIGINT, confupdtype VARCHAR, confdeltype VARCHAR,
		confmatchtype VARCHAR, conislocal BOOLEAN, coninhcount INTEGER, connoinherit BOOLEAN, conkey SMALLINT[],
		confkey SMALLINT[], conpfeqop BIGINT[], conppeqop BIGINT[], conffeqop BIGINT[], confdelsetcols SMALLINT[],
		conexclop BIGINT[], conbin VARCHAR)`,
	`CREATE TABLE lakectl_pg.pg_index (indexrelid BIGINT, indrelid BIGINT, indnatts SMALLINT, indnkeyatts SMALLINT,
		indisunique BOOLEAN, indnullsnotdistinct BOOLEAN, indisprimary BOOLEAN, indisexclusion BOOLEAN,
		indimmediate BOOLEAN, indisclustered BOOLEAN, indisvalid BOOLEAN, indcheckxmin BOOLEAN, indisready BOOLEAN,
		indislive BOOLEAN, indisreplident BOOLEAN, indkey SMALLINT[], indcollation BIGINT[], indclass BIGINT[],
		indoption SMALLINT[], indexprs VARCHAR, indpred VARCHAR)`,
	`CREATE TABLE lakectl_pg.pg_inherits (inhrelid BIGINT, inhparent BIGINT, inhseqno INTEGER, inhdetachpending BOOLEAN)`,
	`CREATE TABLE lakectl_pg.pg_description (objoid BIGINT, classoid BIGINT, objsubid INTEGER, description VARCHAR)`,
	`CREATE TABLE lakectl_pg.pg_trigger (oid BIGINT, tgrelid BIGINT, tgname VARCHAR, tgisinternal BOOLEAN, tgenabled VARCHAR, tgparentid BIGINT)`,
	`CREATE TABLE lakectl_pg.pg_rewrite (oid BIGINT, rulename VARCHAR, ev_class BIGINT, ev_type VARCHAR)`,
	`CREATE TABLE lakectl_pg.pg_policy (oid BIGINT, polname VARCHAR, polrelid BIGINT, polcmd VARCHAR, polpermissive BOOLEAN,
		polroles BIGINT[], polqual VARCHAR, polwithcheck VARCHAR)`,
	`CREATE TABLE lakectl_pg.pg_statistic_ext (oid BIGINT, stxrelid BIGINT, stxname VARCHAR, stxnamespace BIGINT,
		stxkeys SMALLINT[], stxkind VARCHAR[], stxstattarget INTEGER, stxexprs VARCHAR)`,
	`CREATE TABLE lakectl_pg.pg_publication (oid BIGINT, pubname VARCHAR, puballtables BOOLEAN)`,
	`CREATE TABLE lakectl_pg.pg_publication_rel (oid BIGINT, prpubid BIGINT, prrelid BIGINT, prqual VARCHAR, prattrs SMALLINT[])`,
	`CREATE TABLE lakectl_pg.pg_publication_namespace (oid BIGINT, pnpubid BIGINT, pnnspid BIGINT)`,
	`CREATE TABLE lakectl_pg.pg_partitioned_table (partrelid BIGINT, partstrat VARCHAR)`,
	`CREATE TABLE lakectl_pg.pg_foreign_table (ftrelid BIGINT, ftserver BIGINT, ftoptions VARCHAR[])`,
	`CREATE TABLE lakectl_pg.pg_tablespace (oid BIGINT, spcname VARCHAR)`,
	`CREATE TABLE lakectl_pg.pg_enum (oid BIGINT, enumtypid BIGINT, enumsortorder FLOAT, enumlabel VARCHAR)`,
	`CREATE TABLE lakectl_pg.pg_extension (oid BIGINT, extname VARCHAR, extowner BIGINT, extnamespace BIGINT,
		extrelocatable BOOLEAN, extversion VARCHAR, extconfig BIGINT[], extcondition VARCHAR[])`,
	`CREATE TABLE lakectl_pg.pg_sequence (seqrelid BIGINT, seqtypid BIGINT, seqstart BIGINT, seqincrement BIGINT,
		seqmax BIGINT, seqmin BIGINT, seqcache BIGINT, seqcycle BOOLEAN)`,
	`CREATE TABLE lakectl_pg.pg_proc (oid BIGINT, proname VARCHAR, pronamespace BIGINT, prokind VARCHAR, prorettype BIGINT)`,
	`CREATE TABLE lakectl_pg.pg_settings AS SELECT name, setting FROM lakectl_pg.settings`,
	`CREATE TABLE lakectl_is.schemata AS SELECT DISTINCT 'lakectl' AS catalog_name, nspname AS schema_name,
		'lakectl' AS schema_owner FROM lakectl_pg.lake_columns ORDER BY schema_name`,
	`CREATE TABLE lakectl_is.tables AS SELECT DISTINCT 'lakectl' AS table_catalog, nspname AS table_schema,
		relname AS table_name, 'BASE TABLE' AS table_type, 'NO' AS is_insertable_into, 'NO' AS is_typed,
		CAST(NULL AS VARCHAR) AS commit_action FROM lakectl_pg.lake_columns ORDER BY table_schema, table_name`,
	`CREATE TABLE lakectl_is.columns AS SELECT 'lakectl' AS table_catalog, c.nspname AS table_schema,
		c.relname AS table_name, c.attname AS column_name, c.attnum AS ordinal_position,
		CAST(NULL AS VARCHAR) AS column_default, CASE WHEN c.not_null THEN 'NO' ELSE 'YES' END AS is_nullable,
		t.sqlname AS data_type, CAST(NULL AS INTEGER) AS character_maximum_length,
		CASE WHEN t.typcategory = 'N' AND c.num_precision > 0 THEN c.num_precision END AS numeric_precision,
		CASE WHEN t.typcategory = 'N' AND c.num_precision > 0 THEN c.num_scale END AS numeric_scale,
		CASE WHEN t.typcategory = 'D' AND t.typname <> 'date' THEN 6 END AS datetime_precision,
		'lakectl' AS udt_catalog, 'pg_catalog' AS udt_schema, t.typname AS udt_name, 'NO' AS is_identity,
		'NEVER' AS is_generated, 'NO' AS is_updatable
		FROM lakectl_pg.lake_columns c JOIN lakectl_pg.pg_type t ON t.oid = c.typoid
		ORDER BY table_schema, table_name, ordinal_position`,
	`CREATE TABLE lakectl_is.views (table_catalog VARCHAR, table_schema VARCHAR, table_name VARCHAR, view_definition VARCHAR)`,
	`CREATE TABLE lakectl_is.table_constraints (constraint_catalog VARCHAR, constraint_schema VARCHAR, constraint_name VARCHAR,
		table_catalog VARCHAR, table_schema VARCHAR, table_name VARCHAR, constraint_type VARCHAR)`,
	`CREATE TABLE lakectl_is.key_column_usage (constraint_catalog VARCHAR, constraint_schema VARCHAR, constraint_name VARCHAR,
		table_catalog VARCHAR, table_schema VARCHAR, table_name VARCHAR, column_name VARCHAR, ordinal_position INTEGER)`,
	// Functions: the catalog's, and those that describe the server.
	`CREATE MACRO lakectl_pg.pg_get_userbyid(id) AS 'lakectl'`,
	`CREATE MACRO lakectl_pg.pg_table_is_visible(id) AS true`,
	`CREATE MACRO lakectl_pg.pg_type_is_visible(id) AS true`,
	`CREATE MACRO lakectl_pg.format_type(t, m) AS (SELECT sqlname FROM lakectl_pg.pg_type WHERE oid = t) ||
		CASE WHEN t = 1700 AND m >= 4 THEN '(' || ((m - 4) >> 16) || ',' || ((m - 4) & 65535) || ')' ELSE '' END`,
	`CREATE MACRO lakectl_pg.obj_description(o) AS CAST(NULL AS VARCHAR), (o, c) AS CAST(NULL AS VARCHAR)`,
	`CREATE MACRO lakectl_pg.col_description(o, n) AS CAST(NULL AS VARCHAR)`,
	`CREATE MACRO lakectl_pg.shobj_description(o, c) AS CAST(NULL AS VARCHAR)`,
	`CREATE MACRO lakectl_pg.pg_get_expr(e, r) AS CAST(NULL AS VARCHAR), (e, r, p) AS CAST(NULL AS VARCHAR)`,
	`CREATE MACRO lakectl_pg.pg_get_viewdef(o) AS CAST(NULL AS VARCHAR), (o, p) AS CAST(NULL AS VARCHAR)`,
	`CREATE MACRO lakectl_pg.pg_get_indexdef(o) AS CAST(NULL AS VARCHAR), (o, c, p) AS CAST(NULL AS VARCHAR)`,
	`CREATE MACRO lakectl_pg.pg_get_constraintdef(o) AS CAST(NULL AS VARCHAR), (o, p) AS CAST(NULL AS VARCHAR)`,
	`CREATE MACRO lakectl_pg.pg_get_statisticsobjdef_columns(o) AS CAST(NULL AS VARCHAR)`,
	`CREATE MACRO lakectl_pg.pg_relation_is_publishable(o) AS false`,
	`CREATE MACRO lakectl_pg.pg_get_serial_sequence(t, c) AS CAST(NULL AS VARCHAR)`,
	`CREATE MACRO lakectl_pg.array_upper(a, d) AS len(a)`,
	// information_schema's own function, which pgjdbc's getPrimaryKeys calls in its
	// select list: a row (x, n) per element of an array, n counting from 1.
	`CREATE MACRO lakectl_is._pg_expandarray(a) AS unnest(list_transform(a, lambda x, i: {'x': x, 'n': i}))`,
	`CREATE MACRO lakectl_pg.array_lower(a, d) AS CASE WHEN len(a) > 0 THEN 1 END`,
	// parse_ident('views."Kpis"') is ['views', 'Kpis']: names unquoted, folded to
	// lower case, or quoted; Grafana's column list splits its table name with it.
	`CREATE MACRO lakectl_pg.parse_ident(s) AS list_transform(regexp_extract_all(s, '"(?:[^"]|"")*"|[^."]+'),
		lambda p: CASE WHEN p[1] = '"' THEN replace(p[2:-2], '""', '"') ELSE lower(trim(p)) END)`,
	`CREATE MACRO lakectl_pg.pg_encoding_to_char(e) AS 'UTF8'`,
	// Privileges as PostgreSQL states them for a read-only user of its tables: SELECT
	// on tables and columns, USAGE on schemas, CONNECT to the database, nothing else
	// (Metabase reads a table it may update as writable). A privilege argument may
	// list several, "SELECT, INSERT"; any of them is enough.
	`CREATE MACRO lakectl_pg.has_table_privilege(t, p) AS regexp_matches(lower(p), '\bselect\b'),
		(u, t, p) AS regexp_matches(lower(p), '\bselect\b')`,
	`CREATE MACRO lakectl_pg.has_any_column_privilege(t, p) AS regexp_matches(lower(p), '\bselect\b'),
		(u, t, p) AS regexp_matches(lower(p), '\bselect\b')`,
	`CREATE MACRO lakectl_pg.has_schema_privilege(s, p) AS regexp_matches(lower(p), '\busage\b'),
		(u, s, p) AS regexp_matches(lower(p), '\busage\b')`,
	`CREATE MACRO lakectl_pg.has_database_privilege(d, p) AS regexp_matches(lower(p), '\bconnect\b'),
		(u, d, p) AS regexp_matches(lower(p), '\bconnect\b')`,
	`CREATE MACRO lakectl_pg.pg_relation_size(o) AS 0`,
	`CREATE MACRO lakectl_pg.pg_total_relation_size(o) AS 0`,
	`CREATE MACRO lakectl_pg.pg_backend_pid() AS 0`,
	`CREATE MACRO lakectl_pg.pg_is_in_recovery() AS false`,
	`CREATE MACRO lakectl_pg.quote_ident(s) AS CASE WHEN regexp_full_match(s, '[a-z_][a-z0-9_$]*') THEN s
		ELSE '"' || replace(s, '"', '""') || '"' END`,
	// PostgreSQL's format(): %s, %I and %L take the arguments in turn, %% is a %
	// (Metabase names column types with format('%s', udt_name)). rewrite.go calls it
	// pg_format, for DuckDB's format is another function, which a format string
	// without % and with {} still gets. The state of a step is the text done and the
	// text still to format, where %% is chr(1).
	`CREATE MACRO lakectl_pg.quote_literal(s) AS '''' || replace(CAST(s AS VARCHAR), '''', '''''') || ''''`,
	// The state is bound to x once, so that nested steps do not expand it again.
	`CREATE MACRO lakectl_pg.pg_format_step(st, v) AS list_transform([st], lambda x: CASE WHEN strpos(x.r, '%') = 0 THEN x ELSE
		{'d': x.d || substr(x.r, 1, strpos(x.r, '%') - 1) || CASE substr(x.r, strpos(x.r, '%') + 1, 1)
			WHEN 'I' THEN lakectl_pg.quote_ident(CAST(v AS VARCHAR))
			WHEN 'L' THEN coalesce(lakectl_pg.quote_literal(v), 'NULL')
			ELSE coalesce(CAST(v AS VARCHAR), '') END,
		'r': substr(x.r, strpos(x.r, '%') + 2)} END)[1]`,
	`CREATE MACRO lakectl_pg.pg_format_start(f) AS {'d': '', 'r': replace(f, '%%', chr(1))}`,
	`CREATE MACRO lakectl_pg.pg_format_end(st) AS replace(st.d || st.r, chr(1), '%')`,
	`CREATE MACRO lakectl_pg.pg_format(f) AS lakectl_pg.pg_format_end(lakectl_pg.pg_format_start(f)),
		(f, a) AS CASE WHEN strpos(f, '%') = 0 AND strpos(f, '{') > 0 THEN format(f, a)
			ELSE lakectl_pg.pg_format_end(lakectl_pg.pg_format_step(lakectl_pg.pg_format_start(f), a)) END,
		(f, a, b) AS CASE WHEN strpos(f, '%') = 0 AND strpos(f, '{') > 0 THEN format(f, a, b)
			ELSE lakectl_pg.pg_format_end(lakectl_pg.pg_format_step(lakectl_pg.pg_format_step(lakectl_pg.pg_format_start(f), a), b)) END,
		(f, a, b, c) AS CASE WHEN strpos(f, '%') = 0 AND strpos(f, '{') > 0 THEN format(f, a, b, c)
			ELSE lakectl_pg.pg_format_end(lakectl_pg.pg_format_step(lakectl_pg.pg_format_step(lakectl_pg.pg_format_step(lakectl_pg.pg_format_start(f), a), b), c)) END,
		(f, a, b, c, d) AS CASE WHEN strpos(f, '%') = 0 AND strpos(f, '{') > 0 THEN format(f, a, b, c, d)
			ELSE lakectl_pg.pg_format_end(lakectl_pg.pg_format_step(lakectl_pg.pg_format_step(lakectl_pg.pg_format_step(lakectl_pg.pg_format_step(lakectl_pg.pg_format_start(f), a), b), c), d)) END`,
	// A relation's name, schema.table as parse_ident reads it, to its OID; an error
	// as PostgreSQL's for a name that is not one of the user's tables.
	`CREATE MACRO lakectl_pg.regclass_in(name) AS coalesce(
		(SELECT c.oid FROM lakectl_pg.pg_class c JOIN lakectl_pg.pg_namespace n ON n.oid = c.relnamespace
			WHERE [n.nspname, c.relname] = lakectl_pg.parse_ident(name)),
		error('relation "' || name || '" does not exist'))`,
	`CREATE MACRO lakectl_pg.version() AS 'PostgreSQL 15.0 on lakectl (DuckDB)'`,
	`CREATE MACRO lakectl_pg.current_database() AS 'lakectl'`,
	// No schema of the search path ("$user", public) exists: PostgreSQL's
	// current_schema() is then NULL.
	`CREATE MACRO lakectl_pg.current_schema() AS CAST(NULL AS VARCHAR)`,
	`CREATE MACRO lakectl_pg.current_schemas(implicit) AS (SELECT list_sort(list(DISTINCT nspname)) FROM lakectl_pg.lake_columns)`,
	`CREATE MACRO lakectl_pg.current_setting(setting_name) AS (SELECT setting FROM lakectl_pg.settings WHERE name = lower(setting_name))`,
	// Type names that casts in PostgreSQL's catalog queries use.
	`CREATE TYPE lakectl_pg.regclass AS BIGINT`,
	`CREATE TYPE lakectl_pg.regtype AS BIGINT`,
	`CREATE TYPE lakectl_pg.regproc AS BIGINT`,
	`CREATE TYPE lakectl_pg.regnamespace AS BIGINT`,
	`CREATE TYPE lakectl_pg.oid AS BIGINT`,
	`CREATE TYPE lakectl_pg.name AS VARCHAR`,
	`SET search_path = 'lakectl_pg,main'`,
}

// sessionSQL makes a session divide as PostgreSQL does, with or without a catalog:
// integers to an integer.
const sessionSQL = `SET integer_division = true`

// buildCatalog makes the session's catalog from the tables registered in it. It
// runs after the registration and before Seal.
func buildCatalog(ctx context.Context, sess *engine.Session) error {
	type column struct {
		schema, table, name string
		index               int64
		duckType            string
		precision, scale    int64
		nullable            bool
	}
	rows, err := sess.QueryContext(ctx, lakeColumnsSQL)
	if err != nil {
		return fmt.Errorf("build catalog: %w", err)
	}
	var cols []column
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.schema, &c.table, &c.name, &c.index, &c.duckType, &c.precision, &c.scale, &c.nullable); err != nil {
			rows.Close()
			return fmt.Errorf("build catalog: %w", err)
		}
		cols = append(cols, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("build catalog: %w", err)
	}

	stmts := []string{
		`CREATE SCHEMA lakectl_pg`,
		`CREATE SCHEMA lakectl_is`,
		`CREATE TABLE lakectl_pg.lake_columns (nspname VARCHAR, nspoid BIGINT, relname VARCHAR, reloid BIGINT,
			attname VARCHAR, attnum INTEGER, typoid BIGINT, typmod INTEGER, not_null BOOLEAN, num_precision INTEGER, num_scale INTEGER)`,
		// pg_type has all of PostgreSQL 15's columns, and sqlname, format_type's name.
		`CREATE TABLE lakectl_pg.pg_type (oid BIGINT, typname VARCHAR, sqlname VARCHAR, typnamespace BIGINT DEFAULT 11,
			typowner BIGINT DEFAULT 10, typlen SMALLINT, typbyval BOOLEAN, typtype VARCHAR DEFAULT 'b', typcategory VARCHAR,
			typispreferred BOOLEAN DEFAULT false, typisdefined BOOLEAN DEFAULT true, typdelim VARCHAR DEFAULT ',',
			typrelid BIGINT DEFAULT 0, typsubscript BIGINT DEFAULT 0, typelem BIGINT DEFAULT 0, typarray BIGINT DEFAULT 0,
			typinput BIGINT DEFAULT 0, typoutput BIGINT DEFAULT 0, typreceive BIGINT DEFAULT 0, typsend BIGINT DEFAULT 0,
			typmodin BIGINT DEFAULT 0, typmodout BIGINT DEFAULT 0, typanalyze BIGINT DEFAULT 0, typalign VARCHAR DEFAULT 'i',
			typstorage VARCHAR DEFAULT 'p', typnotnull BOOLEAN DEFAULT false, typbasetype BIGINT DEFAULT 0,
			typtypmod INTEGER DEFAULT -1, typndims INTEGER DEFAULT 0, typcollation BIGINT DEFAULT 0, typdefaultbin VARCHAR,
			typdefault VARCHAR, typacl VARCHAR[])`,
		`CREATE TABLE lakectl_pg.settings (name VARCHAR, setting VARCHAR)`,
	}
	for _, st := range stmts {
		if _, err := sess.ExecContext(ctx, st); err != nil {
			return fmt.Errorf("build catalog: %w", err)
		}
	}
	// One INSERT a table: a statement costs DuckDB a plan, and a catalog has a row a
	// column of every table.
	var lakeCols, types, settings [][]sqlfrag.SQL
	for _, c := range cols {
		t := typeOf(c.duckType)
		typmod := int64(-1)
		if t.oid == pgtype.NumericOID && c.precision > 0 {
			typmod = c.precision<<16 | c.scale + 4
		}
		lakeCols = append(lakeCols, []sqlfrag.SQL{sqlfrag.Str(c.schema), sqlfrag.Int(relOID("n", c.schema, "")), sqlfrag.Str(c.table),
			sqlfrag.Int(relOID("r", c.schema, c.table)), sqlfrag.Str(c.name), sqlfrag.Int(c.index), // duckdb_columns counts from 1, as attnum does
			sqlfrag.Int(int64(t.oid)), sqlfrag.Int(typmod), boolSQL(!c.nullable), sqlfrag.Int(c.precision), sqlfrag.Int(c.scale)})
	}
	for _, t := range pgTypes {
		types = append(types, []sqlfrag.SQL{sqlfrag.Int(int64(t.oid)), sqlfrag.Str(t.name), sqlfrag.Str(t.sqlName),
			sqlfrag.Int(int64(t.length)), boolSQL(t.length > 0), sqlfrag.Str(t.category)})
	}
	for name, value := range serverSettings {
		settings = append(settings, []sqlfrag.SQL{sqlfrag.Str(name), sqlfrag.Str(value)})
	}
	for _, ins := range []struct {
		into sqlfrag.SQL
		rows [][]sqlfrag.SQL
	}{
		{sqlfrag.Const("lakectl_pg.lake_columns"), lakeCols},
		{sqlfrag.Const("lakectl_pg.pg_type (oid, typname, sqlname, typlen, typbyval, typcategory)"), types},
		{sqlfrag.Const("lakectl_pg.settings"), settings},
	} {
		if len(ins.rows) == 0 {
			continue
		}
		values := make([]sqlfrag.SQL, len(ins.rows))
		for i, r := range ins.rows {
			values[i] = sqlfrag.Fmt("(%s)", sqlfrag.List(r...))
		}
		if _, err := sess.ExecContext(ctx, sqlfrag.Fmt("INSERT INTO %s VALUES %s", ins.into, sqlfrag.List(values...)).String()); err != nil {
			return fmt.Errorf("build catalog: %w", err)
		}
	}
	for _, st := range catalogSQL {
		if _, err := sess.ExecContext(ctx, st); err != nil {
			return fmt.Errorf("build catalog: %s: %w", st, err)
		}
	}
	return nil
}

func boolSQL(b bool) sqlfrag.SQL {
	if b {
		return sqlfrag.Const("true")
	}
	return sqlfrag.Const("false")
}

// catalogNames are the names of the catalog's functions and types, read once from a
// catalog that DuckDB made: a statement that calls or names one of them needs the
// catalog, as does one that names a table of its schemas.
type catalogNames struct {
	mu               sync.Mutex
	functions, types []string
}

// needsCatalog reports whether uq reads the catalog: a session for it is then made
// with the catalog, and one for a statement that does not, without (building it is
// most of the cost of making a session). DuckDB's parse of the statement tells.
func (c *catalogNames) needsCatalog(ctx context.Context, cfg engine.Config, uq *engine.UserSQL) (bool, error) {
	if namesCatalogTable(uq) {
		return true, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.functions == nil {
		if err := c.load(ctx, cfg); err != nil {
			return false, err
		}
	}
	for _, f := range uq.Functions {
		if _, ok := slices.BinarySearch(c.functions, f); ok {
			return true, nil
		}
	}
	for _, t := range uq.Types {
		if _, ok := slices.BinarySearch(c.types, t); ok {
			return true, nil
		}
	}
	return false, nil
}

// load reads the names of a catalog built in a session of its own. c.mu is held.
func (c *catalogNames) load(ctx context.Context, cfg engine.Config) error {
	sess, err := engine.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer sess.Close()
	if err := buildCatalog(ctx, sess); err != nil {
		return err
	}
	read := func(query string) ([]string, error) {
		rows, err := sess.QueryContext(ctx, query)
		if err != nil {
			return nil, fmt.Errorf("read the catalog's names: %w", err)
		}
		defer rows.Close()
		var names []string
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				return nil, fmt.Errorf("read the catalog's names: %w", err)
			}
			names = append(names, n)
		}
		return names, rows.Err()
	}
	functions, err := read(`SELECT DISTINCT lower(function_name) FROM duckdb_functions()
		WHERE schema_name IN ('lakectl_pg', 'lakectl_is') ORDER BY 1`)
	if err != nil {
		return err
	}
	types, err := read(`SELECT DISTINCT lower(type_name) FROM duckdb_types() WHERE schema_name IN ('lakectl_pg', 'lakectl_is') ORDER BY 1`)
	if err != nil {
		return err
	}
	c.functions, c.types = functions, types
	return nil
}
