package pgwire

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	wire "github.com/jeroenrinzema/psql-wire"
	"github.com/jeroenrinzema/psql-wire/codes"
	psqlerr "github.com/jeroenrinzema/psql-wire/errors"

	"github.com/lakectl/lakectl/engine"
)

// result is a query's answer, read whole.
type result struct {
	columns wire.Columns
	rows    [][]any
}

// parse answers a Parse message or a simple query. Column types are known only once
// DuckDB has planned the query, and the row description comes before the rows, so
// the query runs here; its result answers the first Execute, and every later
// Execute of the prepared statement runs it again on the then latest snapshots.
func (s *Server) parse(ctx context.Context, q wire.Query) (wire.PreparedStatements, error) {
	if c, ok := parseControl(q.Query); ok {
		return wire.Prepared(controlStatement(c)), nil
	}
	user := wire.AuthenticatedUsername(ctx)
	nparams := 0
	if !q.SimpleQuery {
		nparams = max(paramCount(q.Query), len(q.ParameterOIDs))
	}
	if nparams > 0 {
		stmt, err := s.parameterised(ctx, user, q, nparams)
		if err != nil {
			return nil, err
		}
		return wire.Prepared(stmt), nil
	}
	first, err := s.run(ctx, user, q.Query)
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	stmt := wire.NewStatement(func(ctx context.Context, w wire.DataWriter, _ []wire.Parameter) error {
		mu.Lock()
		res := first
		first = nil
		mu.Unlock()
		if res == nil {
			var err error
			if res, err = s.run(ctx, user, q.Query); err != nil {
				return err
			}
		}
		return writeResult(w, res)
	}, wire.WithColumns(first.columns))
	return wire.Prepared(stmt), nil
}

// parameterised prepares a statement with parameters: its columns come from a run
// with every parameter NULL, and each execution runs it with the values bound.
func (s *Server) parameterised(ctx context.Context, user string, q wire.Query, n int) (*wire.PreparedStatement, error) {
	// Types the client did not give stay 0, unspecified: clients then send text,
	// bound as a literal.
	oids := make([]uint32, n)
	copy(oids, q.ParameterOIDs)
	described, err := s.run(ctx, user, bindParams(q.Query, nullLiterals(n)))
	if err != nil {
		return nil, err
	}
	return wire.NewStatement(func(ctx context.Context, w wire.DataWriter, params []wire.Parameter) error {
		literals, err := paramLiterals(params, oids)
		if err != nil {
			return psqlerr.WithCode(err, codes.InvalidParameterValue)
		}
		res, err := s.run(ctx, user, bindParams(q.Query, literals))
		if err != nil {
			return err
		}
		return writeResult(w, res)
	}, wire.WithColumns(described.columns), wire.WithParameters(oids)), nil
}

// writeResult sends res to a statement's client. A statement that runs again must
// give the columns it was described with.
func writeResult(w wire.DataWriter, res *result) error {
	if !sameColumns(res.columns, w.Columns()) {
		return psqlerr.WithCode(errors.New("the result's columns changed since the statement was prepared: prepare it again"), codes.FeatureNotSupported)
	}
	if err := wire.WriteRows(w, res.rows); err != nil {
		return err
	}
	return w.Complete(fmt.Sprintf("SELECT %d", len(res.rows)))
}

func sameColumns(a, b wire.Columns) bool {
	return slices.EqualFunc(a, b, func(x, y wire.Column) bool { return x.Name == y.Name && x.Oid == y.Oid })
}

// controlStatement answers a session statement (control.go).
func controlStatement(c control) *wire.PreparedStatement {
	var opts []wire.PreparedOptionFn
	if c.show != "" {
		opts = append(opts, wire.WithColumns(wire.Columns{{Name: c.show, Oid: 25}}))
	}
	return wire.NewStatement(func(ctx context.Context, w wire.DataWriter, _ []wire.Parameter) error {
		if c.empty {
			return w.Empty()
		}
		if c.show != "" {
			if err := w.Row([]any{c.value}); err != nil {
				return err
			}
		}
		return w.Complete(c.tag)
	}, opts...)
}

// run runs sql for user in a sealed session that holds the tables the user may
// read, each pinned to its latest snapshot, and reads its result.
func (s *Server) run(ctx context.Context, user, sql string) (*result, error) {
	u, ok := s.cfg.Users[user]
	if !ok { // authenticated users are in Users; this guards a misuse of the library
		return nil, psqlerr.WithCode(fmt.Errorf("unknown user %q", user), codes.InsufficientPrivilege)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.QueryTimeout)
	defer cancel()
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	case <-ctx.Done():
		return nil, queryError(ctx, ctx.Err(), s.cfg)
	}
	res, err := s.query(ctx, user, u, sql)
	if err != nil {
		s.log.Info("query failed", "user", user, "err", err)
		return nil, queryError(ctx, err, s.cfg)
	}
	return res, nil
}

// query parses sql and pins its tables in a planner session, then runs it in a
// session of its user and pinned tables: an idle one of the pool (pool.go), or a new
// one.
func (s *Server) query(ctx context.Context, user string, u User, sql string) (*result, error) {
	planner := s.planners.take("")
	if planner == nil {
		var err error
		if planner, err = s.openPlanner(ctx); err != nil {
			return nil, err
		}
	}
	uq, pinned, err := s.pin(ctx, planner, u, sql)
	if ctx.Err() != nil {
		planner.Close() // a canceled statement may have left its connection mid-way
	} else {
		s.planners.put("", planner)
	}
	if err != nil {
		return nil, err
	}
	withCatalog, err := s.catalogNames.needsCatalog(ctx, s.cfg.Engine, uq)
	if err != nil {
		return nil, err
	}
	key := fmt.Sprintf("%s\x00%t\x00%s", user, withCatalog, pinned.Key())
	sess := s.sessions.take(key)
	if sess == nil {
		if sess, err = s.prepare(ctx, pinned, withCatalog); err != nil {
			return nil, err
		}
		s.log.Debug("session prepared", "user", user, "catalog", withCatalog)
	}
	res, err := s.read(ctx, sess, uq)
	if err != nil || !reusable(uq) {
		sess.Close() // a failed or canceled query's session may be mid-way
		return res, err
	}
	s.sessions.put(key, sess)
	return res, nil
}

// openPlanner opens a session that parses queries and prunes their tables' files. It
// holds no table, is sealed, and runs no SQL of users'.
func (s *Server) openPlanner(ctx context.Context) (*engine.Session, error) {
	sess, err := engine.Open(ctx, s.cfg.Engine)
	if err != nil {
		return nil, err
	}
	if err := sess.Seal(ctx, engine.SealOptions{}); err != nil {
		sess.Close()
		return nil, err
	}
	return sess, nil
}

// pin checks sql for the sandbox and u's reads, and pins the tables it needs.
func (s *Server) pin(ctx context.Context, planner *engine.Session, u User, sql string) (*engine.UserSQL, Pinned, error) {
	uq, err := s.parses.parse(ctx, planner, sql)
	if err != nil {
		return nil, nil, err
	}
	if err := checkReads(uq, u.Reads); err != nil {
		return nil, nil, err
	}
	pinned, err := s.cfg.Tables.Pin(ctx, planner, uq, tablesToRegister(uq, u.Reads))
	if err != nil {
		return nil, nil, err
	}
	return uq, pinned, nil
}

// prepare opens a session with the pinned tables and, withCatalog, their catalog,
// sealed.
func (s *Server) prepare(ctx context.Context, pinned Pinned, withCatalog bool) (*engine.Session, error) {
	sess, err := engine.Open(ctx, s.cfg.Engine)
	if err != nil {
		return nil, err
	}
	if err := pinned.Register(ctx, sess); err != nil {
		sess.Close()
		return nil, err
	}
	if withCatalog {
		err = buildCatalog(ctx, sess)
	}
	if err == nil {
		_, err = sess.ExecContext(ctx, sessionSQL)
	}
	if err != nil {
		sess.Close()
		return nil, err
	}
	if err := sess.Seal(ctx, engine.SealOptions{}); err != nil {
		sess.Close()
		return nil, err
	}
	return sess, nil
}

// read runs uq in sess, sealed, and reads its result whole.
func (s *Server) read(ctx context.Context, sess *engine.Session, uq *engine.UserSQL) (*result, error) {
	rows, err := sess.QueryUser(ctx, uq)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	res := &result{}
	conv := make([]pgType, len(types))
	for i, t := range types {
		conv[i] = typeOf(t.DatabaseTypeName())
		res.columns = append(res.columns, wire.Column{Name: t.Name(), Oid: conv[i].oid, AttrNo: int16(i + 1), Width: -1})
	}
	for rows.Next() {
		if len(res.rows) == s.cfg.MaxRows {
			return nil, &tooManyRowsError{max: s.cfg.MaxRows}
		}
		vals := make([]any, len(types))
		ptrs := make([]any, len(types))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		for i, v := range vals {
			if v == nil {
				continue
			}
			if vals[i], err = conv[i].convert(v); err != nil {
				return nil, fmt.Errorf("column %s: %w", types[i].Name(), err)
			}
		}
		res.rows = append(res.rows, vals)
	}
	return res, rows.Err()
}

type tooManyRowsError struct{ max int }

func (e *tooManyRowsError) Error() string {
	return fmt.Sprintf("the result has more than %d rows: aggregate, or add a LIMIT", e.max)
}

// notReadableError is a query that names a table outside its user's reads.
type notReadableError struct {
	table engine.TableName
	reads []engine.TableName
}

func (e *notReadableError) Error() string {
	var names []string
	for _, n := range e.reads {
		names = append(names, n.String())
	}
	return fmt.Sprintf("permission denied for table %s: this user reads only %s", e.table, strings.Join(names, ", "))
}

// catalogSchemas are the schemas of the catalog: the session's (catalog.go), and
// DuckDB's, which list the session's tables, which are the user's.
var catalogSchemas = []string{"", "main", "pg_catalog", "information_schema", catalogSchema, infoSchema}

// checkReads refuses SQL that names a table of a schema other than the user's
// tables' and the catalog's. Tables without a schema are common table expressions or
// the catalog's views: the lake's tables all have one.
func checkReads(uq *engine.UserSQL, reads []engine.TableName) error {
	for _, n := range uq.Tables {
		if slices.Contains(catalogSchemas, n.Schema) || slices.Contains(reads, n) {
			continue
		}
		return &notReadableError{table: n, reads: reads}
	}
	return nil
}

// tablesToRegister are the tables of reads that a query needs: those it names, or,
// when it reads the catalog (or names a table without a schema, which may be the
// catalog's), all of them, so that the catalog lists them. A query of the lake's
// tables alone then loads no other table's log, and a table whose log is broken fails
// only the queries that read it.
func tablesToRegister(uq *engine.UserSQL, reads []engine.TableName) []engine.TableName {
	if namesCatalogTable(uq) {
		return reads
	}
	var named []engine.TableName
	for _, n := range reads {
		if slices.Contains(uq.Tables, n) {
			named = append(named, n)
		}
	}
	return named
}

// namesCatalogTable reports whether uq names a table of the catalog's schemas, or one
// without a schema, which may be the catalog's.
func namesCatalogTable(uq *engine.UserSQL) bool {
	return slices.ContainsFunc(uq.Tables, func(n engine.TableName) bool { return slices.Contains(catalogSchemas, n.Schema) })
}

// queryError gives err the SQLSTATE that clients branch on.
func queryError(ctx context.Context, err error, cfg Config) error {
	var refused *engine.RefusedError
	var denied *notReadableError
	var tooMany *tooManyRowsError
	switch {
	case errors.As(err, &refused):
		return psqlerr.WithCode(fmt.Errorf("read-only: %w", err), codes.ReadOnlySQLTransaction)
	case errors.As(err, &denied):
		return psqlerr.WithCode(err, codes.InsufficientPrivilege)
	case errors.As(err, &tooMany):
		return psqlerr.WithCode(err, codes.ProgramLimitExceeded)
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return psqlerr.WithCode(fmt.Errorf("canceling statement due to the query timeout of %s: %w", cfg.QueryTimeout, err), codes.QueryCanceled)
	}
	if strings.HasPrefix(err.Error(), "parse SQL: ") { // ParseUserSQL's words for a syntax error
		return psqlerr.WithCode(err, codes.Syntax)
	}
	for _, c := range duckErrorCodes {
		if strings.Contains(err.Error(), c.class) {
			return psqlerr.WithCode(err, c.code)
		}
	}
	return psqlerr.WithCode(err, codes.Internal)
}

// duckErrorCodes are the SQLSTATEs of DuckDB's error classes, found by the class
// name that starts DuckDB's messages.
var duckErrorCodes = []struct {
	class string
	code  codes.Code
}{
	{"Catalog Error: Table", codes.UndefinedTable},
	{`Invalid Input Error: relation "`, codes.UndefinedTable}, // regclass_in's (catalog.go)
	{"Catalog Error: Scalar Function", codes.UndefinedFunction},
	{"Binder Error: Referenced column", codes.UndefinedColumn},
	{"Conversion Error:", codes.InvalidTextRepresentation},
	{"Out of Memory Error:", codes.OutOfMemory},
	{"Permission Error:", codes.InsufficientPrivilege},
	{"Binder Error:", codes.SyntaxErrorOrAccessRuleViolation},
}

// parseTableName reads schema.name as lakectl.yaml writes it.
func parseTableName(s string) (engine.TableName, error) {
	schema, name, ok := strings.Cut(strings.ToLower(s), ".")
	if !ok || schema == "" || name == "" {
		return engine.TableName{}, fmt.Errorf("table %q: want schema.name", s)
	}
	return engine.TableName{Schema: schema, Name: name}, nil
}
