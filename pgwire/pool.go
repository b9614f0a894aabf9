package pgwire

import (
	"slices"
	"sync"
	"time"

	"github.com/lakectl/lakectl/engine"
)

// A sealed session with its tables registered and its catalog built costs far more
// to make than most dashboard queries cost to run, and a dashboard sends the same
// queries over the same tables again and again. So a session that answered a query
// is kept, idle, under its key: its user and its Pinned key, which name the tables,
// their snapshots and files. A later query with the same key, which would make the
// same session, takes it instead. A new commit changes the key, so the next query
// makes a session of the new snapshot, and the old one ages out.
//
// Reuse leaves nothing of one query for the next: the session is sealed, so only
// queries run in it (no CREATE, SET, PREPARE, ATTACH, macro or temporary object
// reaches DuckDB), and the sessions that ran a query calling a function that changes
// the session's state (statefulFunctions) or that failed are closed, not kept. A
// session holds only its user's tables, and a query is refused before a session is
// chosen when it names another table.

// idleSessionAge is how long an idle session is kept: it pins the files of its
// snapshots in the cache, and holds DuckDB's memory.
const idleSessionAge = 5 * time.Minute

// statefulFunctions change the state of a DuckDB session for the queries after the
// one that calls them: setseed seeds random().
var statefulFunctions = []string{"setseed"}

// reusable reports whether a session may answer other queries after uq.
func reusable(uq *engine.UserSQL) bool {
	for _, f := range uq.Functions {
		if slices.Contains(statefulFunctions, f) {
			return false
		}
	}
	return true
}

// sessionPool holds idle sessions by key, at most max, none idle for longer than
// idleSessionAge.
type sessionPool struct {
	max int

	mu     sync.Mutex
	idle   []idleSession // oldest first
	closed bool
}

type idleSession struct {
	key   string
	sess  *engine.Session
	since time.Time
}

// take returns an idle session of key, removed from the pool, or nil.
func (p *sessionPool) take(key string) *engine.Session {
	p.mu.Lock()
	var sess *engine.Session
	for i := len(p.idle) - 1; i >= 0; i-- {
		if p.idle[i].key == key {
			sess = p.idle[i].sess
			p.idle = slices.Delete(p.idle, i, i+1)
			break
		}
	}
	old := p.evict(time.Now())
	p.mu.Unlock()
	closeAll(old)
	return sess
}

// put keeps sess, idle, under key.
func (p *sessionPool) put(key string, sess *engine.Session) {
	p.mu.Lock()
	if p.closed || p.max <= 0 {
		p.mu.Unlock()
		sess.Close()
		return
	}
	now := time.Now()
	p.idle = append(p.idle, idleSession{key: key, sess: sess, since: now})
	old := p.evict(now)
	p.mu.Unlock()
	closeAll(old)
}

// evict removes the sessions idle for too long, and then, while there are more than
// max, the oldest of a key that has another idle session (two queries of one key that
// ran at once each made one), or else the oldest. It returns them to be closed
// outside the lock. p.mu is held.
func (p *sessionPool) evict(now time.Time) []idleSession {
	var old []idleSession
	keep := p.idle[:0]
	for _, o := range p.idle {
		if now.Sub(o.since) > idleSessionAge {
			old = append(old, o)
		} else {
			keep = append(keep, o)
		}
	}
	p.idle = keep
	for len(p.idle) > p.max {
		i := slices.IndexFunc(p.idle, func(o idleSession) bool {
			return slices.ContainsFunc(p.idle, func(later idleSession) bool { return later.key == o.key && later.sess != o.sess })
		})
		i = max(i, 0)
		old = append(old, p.idle[i])
		p.idle = slices.Delete(p.idle, i, i+1)
	}
	return old
}

func closeAll(idle []idleSession) {
	for _, o := range idle {
		o.sess.Close()
	}
}

// expire closes the sessions idle for too long.
func (p *sessionPool) expire() {
	p.mu.Lock()
	old := p.evict(time.Now())
	p.mu.Unlock()
	closeAll(old)
}

// close closes the idle sessions, and any put after it.
func (p *sessionPool) close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	closeAll(idle)
}
