package pgwire

import (
	"container/list"
	"context"
	"sync"

	"github.com/lakectl/lakectl/engine"
)

// parseCacheSize bounds the statements whose parse is kept: a dashboard sends a
// few dozen texts again and again.
const parseCacheSize = 256

// parseCache keeps DuckDB's parse of the statements most recently run, by their text
// as the client sent it: a parse depends on the text alone (rewrite and
// engine.Session.ParseUserSQL), and costs a statement to DuckDB. What a user may read
// is checked on every query, whichever user's query the parse was made for.
type parseCache struct {
	mu     sync.Mutex
	byText map[string]*list.Element // of order, whose values are parsed
	order  *list.List               // most recently used first
}

type parsed struct {
	text string
	uq   *engine.UserSQL
}

func newParseCache() *parseCache {
	return &parseCache{byText: map[string]*list.Element{}, order: list.New()}
}

// parse returns sql's parse, from the cache or from planner.
func (c *parseCache) parse(ctx context.Context, planner *engine.Session, sql string) (*engine.UserSQL, error) {
	c.mu.Lock()
	if e, ok := c.byText[sql]; ok {
		c.order.MoveToFront(e)
		c.mu.Unlock()
		return e.Value.(parsed).uq, nil
	}
	c.mu.Unlock()
	uq, err := planner.ParseUserSQL(ctx, rewrite(sql))
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byText[sql]; !ok {
		c.byText[sql] = c.order.PushFront(parsed{text: sql, uq: uq})
		if c.order.Len() > parseCacheSize {
			delete(c.byText, c.order.Remove(c.order.Back()).(parsed).text)
		}
	}
	return uq, nil
}
