// Package engine runs DuckDB over lake tables: one in-process DuckDB database per
// Session, Delta tables registered in it as views over their snapshot's data files, and
// query results written back as Delta data files with statistics.
//
//	sess, err := engine.Open(ctx, engine.Config{MemoryLimit: "4GiB", Threads: 2, Logger: log})
//	defer sess.Close()
//	snap, err := table.Latest(ctx)
//	err = sess.RegisterTable(ctx, "silver", "events", snap, engine.TableFiles(table, fileCache))
//	adds, err := sess.WriteFiles(ctx, gold, []string{"day"},
//		`SELECT day, count(*) AS n FROM silver.events WHERE day = $1 GROUP BY day`, day)
//	tx := gold.Begin(goldSnap)
//	tx.Add(adds...)
//	_, err = tx.Commit(ctx)
//
// DuckDB here has no httpfs, so it only reads local files: a FileResolver gives each
// data file a local path, the store's own for the file backend, a cached copy otherwise
// (lake/cache).
//
// SQL that lakectl generates runs as above, with DuckDB's full file access. SQL that a
// user writes (lakectl query, Gold models and views) runs only in a sealed session,
// which reads the tables registered before Seal and writes nothing (sandbox.go):
//
//	q, err := sess.ParseUserSQL(ctx, userSQL) // refuses what is not a query; q.Tables
//	// register the tables of q.Tables that the lake has, then:
//	err = sess.Seal(ctx, engine.SealOptions{})
//	rows, err := sess.QueryUser(ctx, q)
//
// Before a table of q is registered, Prune keeps only the files that q's WHERE
// comparisons can need, from the partition values and statistics of the Delta log
// (prune.go), so only those are fetched:
//
//	adds, report, err := sess.Prune(ctx, q, name, snap, snap.Files())
//	err = sess.RegisterFiles(ctx, name.Schema, name.Name, snap, adds, files)
//
// Every Session has the strict JSON check that DuckDB's lenient reader lacks, as Go
// functions inside DuckDB (jsoncheck.go). A query calls it per row as JSONProblemSQL
// writes it: a BOOLEAN pass first, the problem's text only for the rows that fail.
package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"runtime"
	"sync"

	"github.com/duckdb/duckdb-go/v2"
)

// Config sets up a Session. Zero values take the documented defaults.
type Config struct {
	// MemoryLimit bounds DuckDB's memory, in DuckDB's syntax with binary units:
	// "4GiB" (DuckDB reads "4GB" as 10^9 bytes). Past it DuckDB spills to TempDir.
	// Default: DefaultMemoryLimit, half of the memory available to the process.
	MemoryLimit string
	// Threads is the number of DuckDB worker threads. Default: runtime.NumCPU().
	Threads int
	// TempDir is where DuckDB spills, in a new directory of the session's own under it
	// (a sealed session may write there), removed by Close. Default: os.TempDir().
	TempDir string
	// Logger receives the session's events. Default: discard.
	Logger *slog.Logger
}

// Session is one DuckDB database, in memory, and the one connection that all its
// queries use. Methods may be called from several goroutines; queries run one at a
// time (each one uses all Threads).
type Session struct {
	db      *sql.DB
	conn    *sql.Conn
	log     *slog.Logger
	tempDir string

	mu      sync.Mutex
	linkDir string              // made on first use by linkFiles, removed by Close
	pins    map[string]func()   // view name -> release of the files it reads
	files   map[string][]string // view name -> the files it reads
	sealed  bool                // see Seal
}

// Open starts a DuckDB database with cfg's settings.
func Open(ctx context.Context, cfg Config) (*Session, error) {
	s := &Session{log: cfg.Logger, pins: map[string]func(){}, files: map[string][]string{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("component", "engine")
	threads := cfg.Threads
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	// A directory of its own, even under a configured TempDir: DuckDB lets a sealed
	// session write to its temp directory, which must then hold nothing else.
	dir, err := os.MkdirTemp(cfg.TempDir, "lakectl-duckdb-")
	if err != nil {
		return nil, fmt.Errorf("open engine: temp dir: %w", err)
	}
	s.tempDir = dir

	memoryLimit := cfg.MemoryLimit
	if memoryLimit == "" {
		memoryLimit = DefaultMemoryLimit()
	}
	settings := url.Values{
		"threads":        {fmt.Sprint(threads)},
		"temp_directory": {s.tempDir},
		// Extensions cannot be downloaded here and users may be offline: fail at once
		// rather than hang on a network fetch. The ones lakectl uses (parquet, json,
		// icu) are built in and loaded with the database, so none is ever loaded later,
		// and none may be: a sealed session (Seal) relies on that.
		"autoinstall_known_extensions": {"false"},
		"autoload_known_extensions":    {"false"},
		"allow_community_extensions":   {"false"},
		"allow_unsigned_extensions":    {"false"},
	}
	if memoryLimit != "" {
		settings.Set("memory_limit", memoryLimit)
	}
	// Set when the database is made, not by SET statements after: each statement costs
	// as much as a small query, and every lakectl query opens a session.
	connector, err := duckdb.NewConnector("?"+settings.Encode(), nil)
	if err != nil {
		s.cleanup()
		return nil, fmt.Errorf("open engine: %w", err)
	}
	s.db = sql.OpenDB(connector)
	// database/sql pools connections, and each DuckDB connection has its own session
	// state: TimeZone, search_path, temporary views and tables. A second pooled
	// connection would run a query without the settings and views made on the first.
	// So the session holds one connection for everything, and the pool may open no
	// other.
	s.db.SetMaxOpenConns(1)
	s.conn, err = s.db.Conn(ctx)
	if err != nil {
		s.cleanup()
		return nil, fmt.Errorf("open engine: %w", err)
	}
	// The extensions' settings, which the database takes only once they are loaded.
	// Delta timestamps are UTC instants; casts between TIMESTAMP and TIMESTAMPTZ, and
	// partition values, are read in UTC whatever the machine's zone. A query reads each
	// file's footer when the view is created and again when a query binds it; data
	// files never change (Delta writes new ones).
	if _, err := s.conn.ExecContext(ctx, "SET TimeZone = 'UTC'; SET parquet_metadata_cache = true"); err != nil {
		s.Close()
		return nil, fmt.Errorf("open engine: %w", err)
	}
	if err := RegisterFunctions(s.conn); err != nil {
		s.Close()
		return nil, fmt.Errorf("open engine: %w", err)
	}
	s.log.Debug("session open", "threads", threads, "memory_limit", memoryLimit, "temp_dir", s.tempDir)
	return s, nil
}

// Close releases the files the views pinned, closes DuckDB and removes the session's
// temp directory.
func (s *Session) Close() error {
	s.mu.Lock()
	for name, release := range s.pins {
		release()
		delete(s.pins, name)
	}
	s.mu.Unlock()
	var errs []error
	if s.conn != nil {
		errs = append(errs, s.conn.Close())
	}
	if s.db != nil {
		errs = append(errs, s.db.Close())
	}
	s.cleanup()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close engine: %w", err)
	}
	return nil
}

func (s *Session) cleanup() {
	os.RemoveAll(s.tempDir)
	if s.linkDir != "" {
		os.RemoveAll(s.linkDir)
	}
}

// ExecContext runs a statement on the session's connection.
func (s *Session) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return s.conn.ExecContext(ctx, query, args...)
}

// QueryContext runs a query on the session's connection. The caller closes the rows
// before the next query can run.
func (s *Session) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return s.conn.QueryContext(ctx, query, args...)
}

// QueryRowContext runs a query that returns at most one row.
func (s *Session) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return s.conn.QueryRowContext(ctx, query, args...)
}
