// Package lru is a least-recently-used cache bounded by the total cost of its
// values (a count with a cost of 1 each, or bytes), safe for concurrent use. The
// parse cache of pgwire and the result cache of serve keep their entries in one.
package lru

import (
	"container/list"
	"sync"
)

// Cache keeps values by key until their costs add up to more than its bound; then
// the least recently used go first.
type Cache[K comparable, V any] struct {
	max  int64
	cost func(V) int64

	mu    sync.Mutex
	total int64
	order *list.List // of *entry[K, V], most recently used first
	items map[K]*list.Element
}

type entry[K comparable, V any] struct {
	key   K
	value V
	cost  int64
}

// New returns a cache of at most max in total cost, cost being what a value costs.
func New[K comparable, V any](max int64, cost func(V) int64) *Cache[K, V] {
	return &Cache[K, V]{max: max, cost: cost, order: list.New(), items: map[K]*list.Element{}}
}

// Get returns k's value and marks it used.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[k]
	if !ok {
		var zero V
		return zero, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*entry[K, V]).value, true
}

// Add keeps v under k, unless k is kept already, and drops the least recently used
// values beyond the bound. A value costing more than the bound is not kept.
func (c *Cache[K, V]) Add(k K, v V) {
	n := c.cost(v)
	if n > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[k]; ok {
		return
	}
	c.items[k] = c.order.PushFront(&entry[K, V]{key: k, value: v, cost: n})
	c.total += n
	for c.total > c.max {
		e := c.order.Remove(c.order.Back()).(*entry[K, V])
		delete(c.items, e.key)
		c.total -= e.cost
	}
}

// Len is the number of values kept.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
