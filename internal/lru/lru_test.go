package lru

import "testing"

// The least recently used values go first once the costs pass the bound, a Get
// counts as a use, and a value over the bound is not kept at all.
func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	c := New[string, string](6, func(v string) int64 { return int64(len(v)) })
	c.Add("a", "aa")
	c.Add("b", "bb")
	c.Add("c", "cc")
	if _, ok := c.Get("a"); !ok { // a is now the most recently used
		t.Fatal("a was dropped within the bound")
	}
	c.Add("d", "dd") // 8 > 6: b, the least recently used, goes
	for k, want := range map[string]bool{"a": true, "b": false, "c": true, "d": true} {
		if _, ok := c.Get(k); ok != want {
			t.Errorf("%s kept = %v, want %v", k, ok, want)
		}
	}
	c.Add("e", "eeeeeee") // costs 7 > 6
	if _, ok := c.Get("e"); ok || c.Len() != 3 {
		t.Errorf("a value over the bound: kept %v, %d values; want not kept, 3", ok, c.Len())
	}
	c.Add("a", "xx")
	if v, _ := c.Get("a"); v != "aa" {
		t.Errorf("Add of a kept key replaced %q with %q", "aa", v)
	}
}
