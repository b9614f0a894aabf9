package views

import (
	"context"
	"strings"
	"time"

	"github.com/lakectl/lakectl/gold"
	"github.com/lakectl/lakectl/lake"
)

// ReflectsThrough is the event time through which table (views.NAME or gold.NAME)
// reflects the events, as Status reckons a consumer's freshness (T, see
// reflection): what a view's last refresh recorded, a Gold table's newest complete
// day. false before there is one.
func ReflectsThrough(ctx context.Context, store lake.Store, table string) (time.Time, bool, error) {
	if name, ok := strings.CutPrefix(table, "gold."); ok {
		return throughGold(ctx, lake.NewTable(store, gold.Root(name)))
	}
	name, _ := strings.CutPrefix(table, "views.")
	hist, err := recent(ctx, lake.NewTable(store, Root(name)))
	if err != nil {
		return time.Time{}, false, err
	}
	for i := len(hist) - 1; i >= 0; i-- {
		if t, ok := infoTime(hist[i].Info, "reflectsThrough"); ok && hist[i].Info["job"] == jobName {
			return t, true, nil
		}
	}
	return time.Time{}, false, nil
}

// infoTime is the time that a refresh commit recorded under key.
func infoTime(info lake.CommitInfo, key string) (time.Time, bool) {
	s, _ := info[key].(string)
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}
