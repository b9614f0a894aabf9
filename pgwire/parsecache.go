package pgwire

import (
	"context"

	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/internal/lru"
)

// parseCacheSize bounds the statements whose parse is kept: a dashboard sends a
// few dozen texts again and again.
const parseCacheSize = 256

// parseCache keeps DuckDB's parse of the statements most recently run, by their text
// as the client sent it: a parse depends on the text alone (rewrite and
// engine.Session.ParseUserSQL), and costs a statement to DuckDB. What a user may read
// is checked on every query, whichever user's query the parse was made for.
type parseCache struct {
	kept *lru.Cache[string, *engine.UserSQL]
}

func newParseCache() *parseCache {
	return &parseCache{kept: lru.New[string](parseCacheSize, func(*engine.UserSQL) int64 { return 1 })}
}

// parse returns sql's parse, from the cache or from planner.
func (c *parseCache) parse(ctx context.Context, planner *engine.Session, sql string) (*engine.UserSQL, error) {
	if uq, ok := c.kept.Get(sql); ok {
		return uq, nil
	}
	uq, err := planner.ParseUserSQL(ctx, rewrite(sql))
	if err != nil {
		return nil, err
	}
	c.kept.Add(sql, uq)
	return uq, nil
}
