package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/lakectl/lakectl/catalog"
	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/pgwire"
	"github.com/lakectl/lakectl/pipeline"
)

// pgTLS is the Postgres port's certificate and key files from the command line
// (--pg-tls-cert, --pg-tls-key, or their variables); "" takes lakectl.yaml's.
type pgTLS struct{ cert, key string }

// pgServer is serve's Postgres port: each consumer that has a token (lakectl.yaml or
// LAKECTL_TOKEN_<NAME>) is a user whose password is that token, and reads only the
// tables it declares. With no consumer token there is no one to let in, which is an
// error rather than an open port.
func (e *pipelineEnv) pgServer(q queryLimits, files pgTLS) (*pgwire.Server, error) {
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
	tlsCfg, err := pgTLSConfig(e.p, files)
	if err != nil {
		return nil, err
	}
	newCatalog := func() *catalog.Catalog {
		return catalog.ForPipeline(e.p, catalog.Config{Store: e.store, Cache: e.cache, URL: e.p.Store.OpenURL()})
	}
	return pgwire.New(pgwire.Config{
		Tables: pgwire.CatalogTables(newCatalog), Users: users, QueryTimeout: q.timeout, Logger: e.log,
		Engine: engine.Config{MemoryLimit: q.memory, Threads: 1, TempDir: e.p.DuckDB.TempDir, Logger: e.log},
		TLS:    tlsCfg, AllowUnencrypted: e.p.Serve.PG.AllowUnencrypted, IdleSessions: idleSessions(e.p.Serve.PG.IdleSessions),
	})
}

// idleSessions is pgwire's IdleSessions for lakectl.yaml's idle_sessions, where 0
// means none and absence the default.
func idleSessions(n *int) int {
	switch {
	case n == nil:
		return 0 // pgwire's default
	case *n == 0:
		return -1
	default:
		return *n
	}
}

// pgTLSConfig loads the port's certificate: the command line's files, else
// lakectl.yaml's (relative to the pipeline directory); nil for none.
func pgTLSConfig(p *pipeline.Pipeline, files pgTLS) (*tls.Config, error) {
	cert, key := files.cert, files.key
	if cert == "" && key == "" {
		cert, key = p.Serve.PG.TLSCert, p.Serve.PG.TLSKey
		if cert != "" {
			cert = p.Path(cert)
		}
		if key != "" {
			key = p.Path(key)
		}
	}
	switch {
	case cert == "" && key == "":
		return nil, nil
	case cert == "" || key == "":
		return nil, usageErrorf("give both --pg-tls-cert and --pg-tls-key (or serve.pg.tls_cert and tls_key in lakectl.yaml)",
			"serve --pg: a TLS certificate needs its key and a key its certificate (cert %q, key %q)", cert, key)
	}
	return pgwire.LoadTLS(cert, key)
}

// listenPG listens on the Postgres port's address, refusing before anything starts
// to send queries and results unencrypted beyond this host.
func listenPG(srv *pgwire.Server, addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("serve --pg: %w", err)
	}
	if err := srv.CheckListener(ln); err != nil {
		ln.Close()
		return nil, hinted(err, "give serve.pg.tls_cert and tls_key in lakectl.yaml (or --pg-tls-cert and --pg-tls-key), "+
			"listen on 127.0.0.1, or set serve.pg.allow_unencrypted: true if the network is yours")
	}
	return ln, nil
}

// runPG serves the Postgres port on ln until ctx ends.
func runPG(ctx context.Context, srv *pgwire.Server, ln net.Listener) error {
	if err := srv.Serve(ctx, ln); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}
