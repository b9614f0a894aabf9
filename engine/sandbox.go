package engine

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/lakectl/lakectl/engine/sqlfrag"
)

// SQL that users write (lakectl query, and Gold models and views) runs in a sealed
// session: register the tables it may read, Seal, then check the SQL with ParseUserSQL
// and run it with QueryUser.
//
//	sess, err := engine.Open(ctx, cfg)
//	q, err := sess.ParseUserSQL(ctx, userSQL) // q.Tables: the tables it names
//	err = sess.RegisterTable(ctx, "silver", "events", snap, files)
//	err = sess.Seal(ctx, engine.SealOptions{})
//	rows, err := sess.QueryUser(ctx, q)
//
// Two layers hold the SQL in:
//
//   - DuckDB's own: enable_external_access off, with allowed_paths naming exactly the
//     registered data files (and DuckDB always allowing the session's private temp
//     directory), extensions neither installed nor loaded, and lock_configuration on, so
//     no SET, RESET or PRAGMA can undo it. Views made before the seal keep reading
//     their files, and nothing else on disk can be read, listed or written.
//   - lakectl's: every statement must be a query (SELECT, FROM, WITH, VALUES, DESCRIBE,
//     SHOW, SUMMARIZE; DuckDB's json_serialize_sql serializes nothing else), and may
//     call no function that changes the session or runs SQL from a string. COPY,
//     ATTACH, INSTALL, LOAD, SET, PRAGMA, CREATE, INSERT and EXPORT never reach DuckDB.
//
// Neither is dropped: DuckDB lets an allowed path be written as well as read, so
// COPY ... TO a registered data file of a local lake passes the first layer and only
// the second stops it; and the second alone would let a query read any file. That is
// why QueryUser takes only SQL that ParseUserSQL has checked.

// ErrSealed is returned by a registration on a sealed session: its settings, and so
// the files it may read, are locked.
var ErrSealed = errors.New("session is sealed for user SQL: register tables before Seal")

// SealOptions loosens the seal for an analyst who asks for it.
type SealOptions struct {
	// AllowLocalFiles lets the SQL read any local file that the process can read
	// (read_csv('my.csv')) besides the registered tables. Writes stay refused: they are
	// not queries. Default: false, only the registered tables.
	AllowLocalFiles bool
}

// Seal locks the session for SQL that users write: from here on it reads only the
// files of the tables registered so far (plus, with AllowLocalFiles, local files),
// writes only to its private temp directory (spilling, and WriteFiles), loads no
// extension and takes no configuration change. Tables cannot be registered after it.
func (s *Session) Seal(ctx context.Context, opts SealOptions) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sealed {
		return nil
	}
	var paths []string
	for _, p := range s.files {
		paths = append(paths, p...)
	}
	slices.Sort(paths)
	off := sqlfrag.Const("false")
	settings := []struct {
		name  string
		value sqlfrag.SQL
	}{
		{"allowed_paths", sqlfrag.StrList(slices.Compact(paths))},
		{"allowed_directories", sqlfrag.Const("[]")},
		// No extension can be installed or loaded: Open set that when it made the
		// database, and the lock below keeps it.
		{"enable_external_access", off},
		// Last: after it no setting changes, this statement's own included.
		{"lock_configuration", sqlfrag.Const("true")},
	}
	if opts.AllowLocalFiles {
		// DuckDB matches allowed directories by prefix: "/" is every local file.
		settings[1].value = sqlfrag.StrList([]string{"/"})
	}
	// One statement list, run in order, in one call: each call costs a query's fixed
	// cost, and every lakectl query seals a session. DuckDB stops at the first that
	// fails, and its error names the setting.
	stmts := make([]sqlfrag.SQL, len(settings))
	for i, st := range settings {
		stmts[i] = sqlfrag.Fmt("SET %s = %s", sqlfrag.Ident(st.name), st.value)
	}
	if _, err := s.conn.ExecContext(ctx, sqlfrag.Join(stmts, "; ").String()); err != nil {
		return fmt.Errorf("seal session: %w", err)
	}
	s.sealed = true
	s.log.Debug("sealed", "files", len(paths), "allow_local_files", opts.AllowLocalFiles)
	return nil
}

// TableName is a table that user SQL names, as schema.name in lower case (DuckDB
// resolves names without regard to case). Schema is empty for a name without one.
type TableName struct{ Schema, Name string }

func (n TableName) String() string {
	if n.Schema == "" {
		return n.Name
	}
	return n.Schema + "." + n.Name
}

// UserSQL is SQL that a user wrote, checked by ParseUserSQL: only queries, no function
// that escapes the sandbox.
type UserSQL struct {
	text string
	// Tables are the tables the statements name, in any clause, sorted, each once.
	// Names of common table expressions are among them when used without a schema.
	Tables []TableName
	// Functions are the functions the statements call, in lower case, sorted, each
	// once, as written (without a schema).
	Functions []string
	// Types are the names of the types that the statements name and DuckDB's parser
	// does not know (a user's, or a schema's), as Functions.
	Types []string
	// scans are each table's scans, with the comparisons that can prune its files.
	scans map[TableName][]scan
}

// String is the SQL as the user wrote it.
func (q *UserSQL) String() string { return q.text }

// RefusedError is user SQL that the sandbox does not run.
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return "refused: " + e.Reason }

// forbiddenFunctions change the session (logging, profiling, the parser, a
// checkpoint), read process memory (arrow_scan takes pointers), or run SQL from a
// string, where neither this check nor the table list can see it.
var forbiddenFunctions = []string{
	"arrow_scan", "arrow_scan_dumb",
	"checkpoint", "force_checkpoint",
	"enable_logging", "disable_logging", "truncate_duckdb_logs", "write_log",
	"enable_profiling", "disable_profiling",
	"enable_peg_parser", "disable_peg_parser",
	"query", "query_table", "json_execute_serialized_sql",
}

// ParseUserSQL parses sql with DuckDB's parser and checks it for the sandbox: every
// statement a query, no forbidden function. It needs no table registered, so it tells
// which tables to register before Seal. A syntax error is returned as DuckDB words it.
func (s *Session) ParseUserSQL(ctx context.Context, sql string) (*UserSQL, error) {
	var tree string
	if err := s.conn.QueryRowContext(ctx, "SELECT CAST(json_serialize_sql(CAST($1 AS VARCHAR)) AS VARCHAR)", sql).Scan(&tree); err != nil {
		return nil, fmt.Errorf("parse SQL: %w", err)
	}
	var res struct {
		Error      bool              `json:"error"`
		ErrorType  string            `json:"error_type"`
		Message    string            `json:"error_message"`
		Statements []json.RawMessage `json:"statements"`
	}
	if err := json.Unmarshal([]byte(tree), &res); err != nil {
		return nil, fmt.Errorf("parse SQL: read the parse tree: %w", err)
	}
	switch {
	case res.Error && res.ErrorType == "not implemented":
		// DuckDB serializes SELECT statements only: this is the statement-type check.
		return nil, &RefusedError{Reason: "only queries run here (SELECT, FROM, WITH, VALUES, DESCRIBE, SHOW, SUMMARIZE), " +
			"not COPY, EXPORT, ATTACH, INSTALL, LOAD, SET, RESET, PRAGMA, CALL, EXPLAIN, a PIVOT statement, CREATE, INSERT, UPDATE or DELETE"}
	case res.Error:
		return nil, fmt.Errorf("parse SQL: %s", res.Message)
	case len(res.Statements) == 0:
		return nil, &RefusedError{Reason: "no statement"}
	}
	var w treeWalk
	var nodes []any
	for _, st := range res.Statements {
		// Numbers as written: constants of the tree become SQL of pruning (prune.go).
		dec := json.NewDecoder(bytes.NewReader(st))
		dec.UseNumber()
		var node any
		if err := dec.Decode(&node); err != nil {
			return nil, fmt.Errorf("parse SQL: read the parse tree: %w", err)
		}
		w.walk(node)
		nodes = append(nodes, node)
	}
	for _, f := range w.functions {
		if slices.Contains(forbiddenFunctions, f) {
			return nil, &RefusedError{Reason: "function " + f + " is not available in queries"}
		}
	}
	slices.SortFunc(w.tables, func(a, b TableName) int { return strings.Compare(a.String(), b.String()) })
	slices.Sort(w.functions)
	slices.Sort(w.types)
	return &UserSQL{text: sql, Tables: slices.Compact(w.tables), Functions: slices.Compact(w.functions),
		Types: slices.Compact(w.types), scans: collectScans(nodes)}, nil
}

// treeWalk collects the table references, function names and unbound type names of
// a json_serialize_sql tree. It visits every node, so a table in a subquery, a CTE, a join or an IN list
// counts as much as one in the FROM clause.
type treeWalk struct {
	tables    []TableName
	functions []string
	types     []string
}

func (w *treeWalk) walk(node any) {
	switch n := node.(type) {
	case []any:
		for _, c := range n {
			w.walk(c)
		}
	case map[string]any:
		if n["type"] == "BASE_TABLE" {
			w.tables = append(w.tables, baseTableName(n))
		}
		if f, ok := n["function_name"].(string); ok {
			w.functions = append(w.functions, strings.ToLower(f))
		}
		if t, ok := n["name"].(string); ok && n["type"] == "UNBOUND_TYPE_INFO" {
			w.types = append(w.types, strings.ToLower(t))
		}
		for _, c := range n {
			w.walk(c)
		}
	}
}

// baseTableName is the table a BASE_TABLE node of the tree names. DuckDB's default
// schema is main: main.t is the table t.
func baseTableName(n map[string]any) TableName {
	schema, _ := n["schema_name"].(string)
	name, _ := n["table_name"].(string)
	schema = strings.ToLower(schema)
	if schema == "main" {
		schema = ""
	}
	return TableName{Schema: schema, Name: strings.ToLower(name)}
}

// QueryUser runs checked user SQL on a sealed session. Several statements run in
// order; the rows are the last one's.
func (s *Session) QueryUser(ctx context.Context, q *UserSQL) (*sql.Rows, error) {
	s.mu.Lock()
	sealed := s.sealed
	s.mu.Unlock()
	if !sealed {
		return nil, errors.New("user SQL runs only in a sealed session: call Seal first")
	}
	return s.conn.QueryContext(ctx, q.text)
}
