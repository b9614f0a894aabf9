package pgwire_test

import (
	"context"
	"net"

	"github.com/lakectl/lakectl/catalog"
	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/lake/mem"
	"github.com/lakectl/lakectl/pgwire"
)

// A dashboard user reads one view of a lake over the Postgres port until ctx ends.
func ExampleServer_Serve() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store := mem.New()
	srv, err := pgwire.New(pgwire.Config{
		Tables: pgwire.CatalogTables(func() *catalog.Catalog { return catalog.ForLake(catalog.Config{Store: store}) }),
		Users: map[string]pgwire.User{
			"ops-dashboard": {Password: "from lakectl.yaml or the environment", Reads: []engine.TableName{{Schema: "views", Name: "realtime_kpis"}}},
		},
	})
	if err != nil {
		panic(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go srv.Serve(ctx, l)
	// psql "postgres://ops-dashboard@127.0.0.1:PORT/lakectl?sslmode=disable"
}
