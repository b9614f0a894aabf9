// Package pgwire serves the tables of a lake, read-only, over the PostgreSQL wire
// protocol, so that psql, Grafana, Metabase and Superset connect with their built-in
// PostgreSQL data source. The protocol is github.com/jeroenrinzema/psql-wire's; the
// SQL is DuckDB's, run in a sealed engine session (engine.Session.Seal).
//
//	reads, err := pgwire.ConsumerReads(p) // each consumer's declared reads
//	srv, err := pgwire.New(pgwire.Config{
//		Tables: pgwire.CatalogTables(func() *catalog.Catalog { return catalog.ForPipeline(p, cfg) }),
//		Users:  map[string]pgwire.User{"ops-dashboard": {Password: pw, Reads: reads["ops-dashboard"]}},
//	})
//	err = srv.Serve(ctx, listener) // until ctx is done
//
// Each query runs in a session holding the tables its user may read, each pinned to
// one snapshot, the latest when the query starts: those the query names with the
// files it can need, the others without files. A session that answered a query is
// kept for the next query of the same user over the same tables, snapshots and files
// (pool.go), which would make the same session: dashboards repeat their queries, and
// making a session with its catalog costs more than most of them. A session gets the
// catalog only when its statement reads it, as DuckDB's parse of the statement says;
// the parses of recent statements are kept too (parsecache.go). A query that names a table outside the user's reads is
// refused (SQLSTATE 42501) before anything is read; anything but a query is refused
// (25006), except the session statements drivers send on their own (BEGIN, COMMIT,
// ROLLBACK, SET, SHOW, DISCARD), which are answered without touching the lake.
//
// The session's PostgreSQL catalog (catalog.go) is made from those tables, so that
// pg_catalog and information_schema list the user's tables, and no other, as
// PostgreSQL would; rewrite.go turns the PostgreSQL-only syntax of catalog queries
// into DuckDB's.
//
// Clients authenticate with SCRAM-SHA-256 (scram.go; psql-wire offers clear-text
// passwords alone): passwords never cross the network. With Config.TLS every
// connection must be TLS, and without it Serve refuses an address beyond loopback
// unless Config.AllowUnencrypted (tls.go).
//
// The BI tools' client libraries are tested against the port, each doing what its
// tool does when a database is added (clients_test.go, grafana_test.go): the
// PostgreSQL JDBC driver 42.5.5 as Metabase's sync calls it, with the SQL of
// Metabase's own PostgreSQL driver (testdata/jdbc/metabase), SQLAlchemy 1.4.46 with
// psycopg2 2.9.5 as Superset inspects a database, and pgx sending the SQL of
// Grafana's PostgreSQL data source. Where a tool builds its own SQL, the golden file
// holds the statement as that tool sends it on the wire (a fact about the client, not
// code of ours), and says at which commit of the tool's source it was read. What they showed is served by general means: the catalog
// relations have PostgreSQL's columns, and rewrite.go and rewrite_calls.go translate
// PostgreSQL syntax, not particular query texts.
//
// A result is read whole before it is sent (Config.MaxRows bounds it). Query
// parameters ($1) are bound as quoted literals (params.go).
package pgwire
