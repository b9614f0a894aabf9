package pgwire

import (
	"fmt"
	"testing"
	"time"

	"github.com/lakectl/lakectl/engine"
)

// The pool keeps at most max idle sessions: past it, a second session of a key goes
// before the only one of another key, and then the oldest; each goes closed.
func TestSessionPoolBound(t *testing.T) {
	open := func() *engine.Session {
		sess, err := engine.Open(t.Context(), engine.Config{MemoryLimit: "64MiB", Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sess.Close() })
		return sess
	}
	closed := func(sess *engine.Session) bool {
		_, err := sess.ExecContext(t.Context(), "SELECT 1")
		return err != nil
	}
	p := &sessionPool{max: 2}
	a1, a2, b, c := open(), open(), open(), open()
	p.put("a", a1)
	p.put("b", b)
	p.put("a", a2) // two of a: the older one goes
	if !closed(a1) || closed(a2) || closed(b) {
		t.Fatalf("after a second session of a: closed a1 %v, a2 %v, b %v; want only a1", closed(a1), closed(a2), closed(b))
	}
	p.put("c", c) // one of each key: the oldest, b, goes
	if !closed(b) || closed(a2) || closed(c) {
		t.Fatalf("after c: closed b %v, a2 %v, c %v; want only b", closed(b), closed(a2), closed(c))
	}
	if got := p.take("a"); got != a2 {
		t.Errorf("take a: got %p, want a2 %p", got, a2)
	}
	if got := p.take("a"); got != nil {
		t.Errorf("take a again: got %p, want nil", got)
	}
	p.close()
	if !closed(c) {
		t.Error("close left c open")
	}
	p.put("a", a2)
	if !closed(a2) {
		t.Error("a put after close kept its session")
	}
}

// A statement run again takes its parse from the cache, until parseCacheSize others
// have been parsed since.
func TestParseCacheBound(t *testing.T) {
	planner, err := engine.Open(t.Context(), engine.Config{MemoryLimit: "64MiB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer planner.Close()
	c := newParseCache()
	parse := func(sql string) *engine.UserSQL {
		uq, err := c.parse(t.Context(), planner, sql)
		if err != nil {
			t.Fatal(err)
		}
		return uq
	}
	first := parse("SELECT * FROM views.kpis")
	if again := parse("SELECT * FROM views.kpis"); again != first {
		t.Error("a statement run again was parsed again")
	}
	for i := range parseCacheSize {
		parse(fmt.Sprintf("SELECT %d FROM views.kpis", i))
	}
	if n := c.kept.Len(); n != parseCacheSize {
		t.Errorf("%d parses kept, want %d", n, parseCacheSize)
	}
	if again := parse("SELECT * FROM views.kpis"); again == first {
		t.Error("the least recently used parse was kept past the bound")
	}
}

// A session idle for longer than idleSessionAge is closed by expire; a younger one is
// kept.
func TestSessionPoolExpires(t *testing.T) {
	p := &sessionPool{max: 2}
	var sessions []*engine.Session
	for range 2 {
		sess, err := engine.Open(t.Context(), engine.Config{MemoryLimit: "64MiB", Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sess.Close() })
		sessions = append(sessions, sess)
	}
	p.put("old", sessions[0])
	p.put("young", sessions[1])
	p.idle[0].since = p.idle[0].since.Add(-idleSessionAge - time.Second)
	p.expire()
	if _, err := sessions[0].ExecContext(t.Context(), "SELECT 1"); err == nil {
		t.Error("the old session is still open")
	}
	if got := p.take("young"); got != sessions[1] {
		t.Errorf("take young: got %p, want %p", got, sessions[1])
	}
}
