package pgwire_test

import (
	"context"
	"errors"
	"net"
	"net/url"
	"testing"

	"github.com/lakectl/lakectl/catalog"
	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/mem"
	"github.com/lakectl/lakectl/pgwire"
)

// The test lake: two tables the dashboard user may read, and Silver, which holds
// the raw user ids it may not.
const (
	kpisSQL = `SELECT DATE '2026-11-01' + CAST(i AS INTEGER) AS day, CAST(i * 10 AS BIGINT) AS events,
		CAST(i * 1.25 AS DECIMAL(10,2)) AS revenue, 'shop ' || i AS label, i % 2 = 0 AS even,
		TIMESTAMPTZ '2026-11-01 12:00:00+00' + to_hours(CAST(i AS BIGINT)) AS updated_at,
		[i, i + 1] AS tags, CAST(i AS DOUBLE) / 4 AS ratio
		FROM range(3) t(i)`
	dailySQL  = `SELECT DATE '2026-11-01' AS day, CAST(42 AS INTEGER) AS users, TIMESTAMP '2026-11-02 00:00:00' AS computed_at, CAST('\xAA' AS BLOB) AS digest`
	eventsSQL = `SELECT 'user-' || i AS user_id, CAST(i AS BIGINT) AS n FROM range(2) t(i)`
)

const (
	dashboardUser     = "dashboard"
	dashboardPassword = "s3cret pass"
)

var dashboardReads = []engine.TableName{{Schema: "views", Name: "kpis"}, {Schema: "gold", Name: "daily"}}

// testLake writes the test lake into a memory store.
func testLake(t *testing.T) lake.Store {
	t.Helper()
	ctx := t.Context()
	store := mem.New()
	sess, err := engine.Open(ctx, engine.Config{MemoryLimit: "256MiB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	for root, query := range map[string]string{"views/kpis": kpisSQL, "gold/daily": dailySQL, "silver/events": eventsSQL} {
		if err := writeTable(ctx, sess, lake.NewTable(store, root), query); err != nil {
			t.Fatalf("write %s: %v", root, err)
		}
	}
	return store
}

// commitTables commits each query's rows to the table at its root, as one more
// version of it, in the order given.
func commitTables(t *testing.T, store lake.Store, rootsAndQueries ...string) {
	t.Helper()
	sess, err := engine.Open(t.Context(), engine.Config{MemoryLimit: "256MiB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	for i := 0; i+1 < len(rootsAndQueries); i += 2 {
		if err := writeTable(t.Context(), sess, lake.NewTable(store, rootsAndQueries[i]), rootsAndQueries[i+1]); err != nil {
			t.Fatalf("write %s: %v", rootsAndQueries[i], err)
		}
	}
}

// writeTable commits query's rows to table, as one more version.
func writeTable(ctx context.Context, sess *engine.Session, table *lake.Table, query string) error {
	schema, err := sess.QuerySchema(ctx, query)
	if err != nil {
		return err
	}
	js, err := schema.JSON()
	if err != nil {
		return err
	}
	snap, err := table.Latest(ctx)
	if errors.Is(err, lake.ErrNoTable) {
		snap, err = nil, nil
	}
	if err != nil {
		return err
	}
	tx := table.Begin(snap)
	if snap == nil {
		tx.SetMetadata(lake.Metadata{SchemaString: js})
	}
	adds, err := sess.WriteFiles(ctx, table, nil, query)
	if err != nil {
		return err
	}
	tx.Add(adds...)
	_, err = tx.Commit(ctx)
	return err
}

// startServer serves store's tables on a loopback port until the test ends, and
// returns the address.
func startServer(t *testing.T, store lake.Store, cfg pgwire.Config) string {
	t.Helper()
	cfg.Tables = pgwire.CatalogTables(func() *catalog.Catalog { return catalog.ForLake(catalog.Config{Store: store}) })
	if cfg.Users == nil {
		cfg.Users = map[string]pgwire.User{dashboardUser: {Password: dashboardPassword, Reads: dashboardReads}}
	}
	cfg.Engine = engine.Config{MemoryLimit: "256MiB", Threads: 1}
	srv, err := pgwire.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return l.Addr().String()
}

func connString(addr, user, password string) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(user, password), Host: addr, Path: "/lake", RawQuery: "sslmode=disable"}
	return u.String()
}
