// Package pgwire serves the tables of a lake, read-only, over the PostgreSQL wire
// protocol, so that psql, Grafana, Metabase and Superset connect with their built-in
// PostgreSQL data source. The protocol is github.com/jeroenrinzema/psql-wire's; the
// SQL is DuckDB's, run in a sealed engine session (engine.Session.Seal) per query.
//
//	srv, err := pgwire.New(pgwire.Config{
//		Tables: pgwire.CatalogTables(func() *catalog.Catalog { return catalog.ForPipeline(p, cfg) }),
//		Users:  map[string]pgwire.User{"grafana": {Password: pw, Reads: reads}},
//	})
//	err = srv.Serve(ctx, listener) // until ctx is done
//
// Each query gets a session of its own holding the tables its user may read, each
// pinned to one snapshot: those the query names with the files it can need, the
// others without files, so that information_schema and pg_catalog list every table
// the user may read and no other. A query that names a table outside the user's
// reads is refused before anything is read; anything but a query is refused, except
// the session statements clients send on their own (BEGIN, COMMIT, ROLLBACK, SET,
// SHOW, DISCARD), which are answered without touching the lake.
package pgwire
