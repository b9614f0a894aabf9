package silver

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/lake"
)

// Coverage is what Bronze holds for a range of ingest hours of a table's stream. A
// backfill reads it once and runs only the hours that hold data: a range from 1970
// is half a million hours, nearly all of them before the stream's first record.
type Coverage struct {
	Table, Stream string
	// Hours is how many hours the range holds.
	Hours int
	// Data are the hours of the range that hold Bronze files, oldest first.
	Data []layout.Hour
	// First is the stream's first ingest hour that holds data; nil when none does.
	First *layout.Hour
	// Before is how many hours of the range lie before First (all of them when
	// First is nil).
	Before int
}

// String says it in one line, for the start of a backfill.
func (c Coverage) String() string {
	s := fmt.Sprintf("%s: %d of %d hours hold data in bronze/%s", c.Table, len(c.Data), c.Hours, c.Stream)
	switch {
	case c.First == nil:
		s += " (the stream holds no data yet)"
	case c.Before > 0:
		s += fmt.Sprintf(" (%d before its first data, %s, skipped)", c.Before, c.First)
	}
	return s
}

// Coverage reads which hours from from to to (inclusive) hold data in the Bronze
// table of table's stream, without listing the hours that do not: the range may
// reach back to 1970. A to after the current hour is refused (*FutureHourError).
func (j *Job) Coverage(ctx context.Context, table string, from, to layout.Hour) (Coverage, error) {
	t, err := j.table(table)
	if err != nil {
		return Coverage{}, err
	}
	cov := Coverage{Table: table, Stream: t.Source, Hours: hoursBetween(from, to)}
	if err := j.notFuture(to); err != nil {
		return cov, err
	}
	snap, err := lake.NewTable(j.cfg.Store, layout.TableRoot(t.Source)).Latest(ctx)
	if errors.Is(err, lake.ErrNoTable) {
		return cov, fmt.Errorf("read bronze/%s: %w (has anything been ingested into stream %s?)", t.Source, err, t.Source)
	}
	if err != nil {
		return cov, fmt.Errorf("read bronze/%s: %w", t.Source, err)
	}
	held := map[layout.Hour]bool{}
	for _, a := range snap.Files() {
		if h, ok := layout.FileHour(&a); ok && !h.Time().Before(from.Time()) && !h.Time().After(to.Time()) && !held[h] {
			held[h] = true
			cov.Data = append(cov.Data, h)
		}
	}
	slices.SortFunc(cov.Data, func(a, b layout.Hour) int { return a.Time().Compare(b.Time()) })
	cov.Before = cov.Hours
	if first, ok := firstDataHour(snap); ok {
		cov.First = &first
		cov.Before = max(0, min(cov.Hours, hoursBetween(from, first)-1))
	}
	return cov, nil
}

// hoursBetween counts the hours from from to to, both included; 0 when to is
// before from.
func hoursBetween(from, to layout.Hour) int {
	return max(0, int(to.Time().Sub(from.Time())/time.Hour)+1)
}

// RunHours runs ingest hours of table in the order given (a backfill), passing each
// hour's summary to each; a backfill of a range runs the hours that Coverage found
// data in. Without opts.Force it stops at the first hour that is not sealed yet: the
// hours before it are processed, and it returns that hour's *UnsealedError with Done
// set to how many hours ran before it. Sealing follows the Bronze watermarks, so the
// hours after an open one are open too; there is no point in skipping ahead. Any
// other error stops the backfill as it is.
func (j *Job) RunHours(ctx context.Context, table string, hours []layout.Hour, opts RunOptions, each func(Summary)) error {
	for i, h := range hours {
		if err := ctx.Err(); err != nil {
			return err
		}
		sum, err := j.RunHour(ctx, table, h, opts)
		var unsealed *UnsealedError
		if errors.As(err, &unsealed) {
			unsealed.Done = i
			return unsealed
		}
		if err != nil {
			return err
		}
		if each != nil {
			each(sum)
		}
	}
	return nil
}

// notFuture refuses an hour after the current one: nothing can have been ingested
// in it, and a run of it would record as processed an hour that is yet to come.
func (j *Job) notFuture(h layout.Hour) error {
	now := layout.HourOf(j.cfg.Now())
	if h.Time().After(now.Time()) {
		return &FutureHourError{Hour: h, Current: now}
	}
	return nil
}

// FutureHourError refuses an ingest hour that has not begun.
type FutureHourError struct {
	Hour, Current layout.Hour
}

func (e *FutureHourError) Error() string {
	return fmt.Sprintf("ingest hour %s is in the future (the current hour is %s, UTC)", e.Hour, e.Current)
}

// Hint says which hours can be run.
func (e *FutureHourError) Hint() string {
	return "hours up to the current one can be run; --force runs the current hour while it is open"
}
