package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/lakectl/lakectl/catalog"
	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/pgwire"
)

// pgServer is serve's Postgres port: each consumer that has a token (lakectl.yaml or
// LAKECTL_TOKEN_<NAME>) is a user whose password is that token, and reads only the
// tables it declares. With no consumer token there is no one to let in, which is an
// error rather than an open port.
func (e *pipelineEnv) pgServer(q queryLimits) (*pgwire.Server, error) {
	reads, err := pgwire.ConsumerReads(e.p)
	if err != nil {
		return nil, err
	}
	users := map[string]pgwire.User{}
	for name, tok := range serveAuth(e.p, os.Getenv).Tokens {
		users[name] = pgwire.User{Password: tok, Reads: reads[name]}
	}
	if len(users) == 0 {
		return nil, hinted(errors.New("serve --pg: no consumer has a token, so no one could connect"),
			"set consumers.NAME.token in lakectl.yaml or LAKECTL_TOKEN_<NAME>: the consumer connects as user NAME with that token as password")
	}
	newCatalog := func() *catalog.Catalog {
		return catalog.ForPipeline(e.p, catalog.Config{Store: e.store, Cache: e.cache, URL: e.p.Store.OpenURL()})
	}
	return pgwire.New(pgwire.Config{
		Tables: pgwire.CatalogTables(newCatalog), Users: users, QueryTimeout: q.timeout, Logger: e.log,
		Engine: engine.Config{MemoryLimit: q.memory, Threads: 1, TempDir: e.p.DuckDB.TempDir, Logger: e.log},
	})
}

// runPG serves the Postgres port on addr until ctx ends.
func runPG(ctx context.Context, srv *pgwire.Server, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("serve --pg: %w", err)
	}
	if err := srv.Serve(ctx, ln); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}
