package deltatest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/lakectl/lakectl/lake"
)

// ChaosConfig sets a Chaos run. Zero fields take the defaults named.
type ChaosConfig struct {
	Seed    uint64 // seeds the plan of writes and the faults
	Writers int    // concurrent writers; default 4
	Writes  int    // logical writes per writer; default 12
	// Faults injected under the writers (Seed is taken from above). Default: 4% fail
	// before, 4% lost replies, 3% cut reads, half of them transient, up to 1ms latency.
	Faults Faults
}

func (c ChaosConfig) withDefaults() ChaosConfig {
	if c.Writers <= 0 {
		c.Writers = 4
	}
	if c.Writes <= 0 {
		c.Writes = 12
	}
	if c.Faults == (Faults{}) {
		c.Faults = Faults{Before: 0.04, LostReply: 0.04, CutRead: 0.03, Transient: 0.5, MaxLatency: time.Millisecond}
	}
	c.Faults.Seed = c.Seed
	return c
}

// The kinds of logical write a chaos writer makes.
const (
	blindAppend = iota // an append without a txn: retried by committing the same Tx again
	keyedAppend        // an append with SetTxn: after any error, re-read, check the ledger, redo
	removeFile         // a remove of one of the writer's own earlier files
)

// chaosWrite is one logical write of the plan.
type chaosWrite struct {
	tag    string // the "write" tag its data file carries
	kind   int
	target string // removeFile: the tag of the write whose file it removes
	seq    int64  // keyedAppend: the txn version it sets
}

// chaosPlan returns writer w's fixed list of logical writes.
func chaosPlan(seed uint64, w, n int) []chaosWrite {
	rng := rand.New(rand.NewPCG(seed, uint64(w)))
	var plan []chaosWrite
	var removable []string
	keyed := int64(0)
	for i := range n {
		cw := chaosWrite{tag: fmt.Sprintf("w%d/%03d", w, i)}
		switch p := rng.Float64(); {
		case p < 0.2 && len(removable) > 0:
			cw.kind, cw.target, removable = removeFile, removable[0], removable[1:]
		case p < 0.6:
			cw.kind = blindAppend
			removable = append(removable, cw.tag)
		default:
			keyed++
			cw.kind, cw.seq = keyedAppend, keyed
			removable = append(removable, cw.tag)
		}
		plan = append(plan, cw)
	}
	return plan
}

// Chaos proves that the Delta log loses and doubles nothing under network faults, and
// that an interrupted write leaves the table as if it never started, which a retry
// finishes. store is a fresh, empty, fault-free store; Chaos puts a FaultStore and
// lake.WithRetry on top of it, has cfg.Writers goroutines make their planned logical
// writes (blind appends, appends with txn idempotency keys, removes) with checkpoints
// every 10 commits, all under faults, and then checks through store itself:
//
//   - versions are contiguous from 0, and the latest snapshot equals an independent
//     replay of the JSON commits;
//   - every logical write was added exactly once, and removed exactly once if planned;
//     each writer's txn ledger holds its last keyed write;
//   - every live file exists;
//   - every checkpoint, read alone, equals the replay at its version, and
//     _last_checkpoint is absent or names a readable checkpoint;
//   - vacuum with no retention, first interrupted by faults and then clean, leaves the
//     table readable with the same state and no unreferenced data files, and loads
//     under faults never report a version as expired.
func Chaos(t *testing.T, store lake.Store, cfg ChaosConfig) {
	cfg = cfg.withDefaults()
	ctx := t.Context()
	const root = "tables/chaos"
	faults := NewFaultStore(store, cfg.Faults)
	faulty := lake.WithRetry(faults, lake.RetryConfig{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond})
	tbl := lake.NewTable(faulty, root)

	if err := retryCommit(ctx, func() (*lake.Tx, error) {
		tx := tbl.Begin(nil)
		tx.SetMetadata(Metadata())
		tx.Operation("CREATE TABLE", nil)
		return tx, nil
	}); err != nil {
		t.Fatalf("create under faults: %v", err)
	}

	plans := make([][]chaosWrite, cfg.Writers)
	errs := make([]error, cfg.Writers)
	var wg sync.WaitGroup
	for w := range cfg.Writers {
		plans[w] = chaosPlan(cfg.Seed, w, cfg.Writes)
		wg.Go(func() {
			cw := &chaosWriter{tbl: tbl, store: faulty, id: w}
			for _, write := range plans[w] {
				if errs[w] = cw.do(ctx, write); errs[w] != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	for w, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", w, err)
		}
	}
	faults.SetEnabled(false)
	t.Logf("seed %d: injected %d faults (%d before, %d lost replies, %d cut reads)", cfg.Seed,
		faults.Injected(), faults.NBefore.Load(), faults.NLostReply.Load(), faults.NCutRead.Load())
	if faults.Injected() == 0 {
		t.Errorf("no fault was injected: the run proves nothing")
	}

	clean := lake.NewTable(store, root)
	snap := CheckChaosTable(t, store, root, plans)
	cps := checkCheckpoints(t, store, root, nil)

	// Vacuum with no retention: a few attempts under faults, each of which may stop
	// anywhere (it reads every commit, so few get through), then one without faults.
	// After every attempt the table must read the same.
	vacuum := lake.VacuumOptions{Retain: time.Nanosecond, Now: time.Now().Add(time.Hour)}
	for attempt := 1; attempt <= 10; attempt++ {
		faults.SetEnabled(true)
		_, err := tbl.Vacuum(ctx, vacuum)
		faults.SetEnabled(false)
		sameState(t, clean, snap, fmt.Sprintf("after vacuum attempt %d under faults (err %v)", attempt, err))
		if err == nil {
			break
		}
	}
	if _, err := clean.Vacuum(ctx, vacuum); err != nil {
		t.Fatalf("vacuum: %v", err)
	}
	after := sameState(t, clean, snap, "after vacuum")
	checkNoOrphans(t, store, root, after)
	checkCheckpoints(t, store, root, cps)

	// Loads under faults after vacuum: errors are allowed, a wrong answer is not, and
	// neither is calling the latest version expired.
	faults.SetEnabled(true)
	for range 40 {
		s, err := tbl.Latest(ctx)
		switch {
		case errors.Is(err, lake.ErrVersionExpired):
			t.Fatalf("latest under faults after vacuum: %v", err)
		case err == nil && SnapshotDigest(s) != SnapshotDigest(snap):
			t.Fatalf("latest under faults after vacuum differs from the table:\n%s\nwant\n%s", SnapshotDigest(s), SnapshotDigest(snap))
		}
	}
	faults.SetEnabled(false)
}

// retryCommit builds a Tx with build and commits it, committing the same Tx again
// after an error whose outcome is unknown (Commit then finds its own commit rather
// than writing a second one). A build error or a *ConflictError ends it.
func retryCommit(ctx context.Context, build func() (*lake.Tx, error)) error {
	tx, err := build()
	if err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		_, err := tx.Commit(ctx)
		var conflict *lake.ConflictError
		if err == nil || errors.As(err, &conflict) || ctx.Err() != nil {
			return err
		}
		if attempt == 200 {
			return fmt.Errorf("gave up after %d attempts: %w", attempt, err)
		}
	}
}

// chaosWriter makes one writer's logical writes, retrying as callers do.
type chaosWriter struct {
	tbl   *lake.Table
	store lake.Store
	id    int
}

// maxTries bounds the attempts at one logical write, so a bug that makes a write fail
// for ever ends the test instead of hanging it.
const maxTries = 200

func (cw *chaosWriter) do(ctx context.Context, w chaosWrite) error {
	var last error
	for range maxTries {
		if err := ctx.Err(); err != nil {
			return err
		}
		var done bool
		switch w.kind {
		case blindAppend:
			done, last = cw.blind(ctx, w)
		case keyedAppend:
			done, last = cw.keyed(ctx, w)
		case removeFile:
			done, last = cw.remove(ctx, w)
		}
		if done {
			return nil
		}
	}
	return fmt.Errorf("%s: gave up after %d tries: %w", w.tag, maxTries, last)
}

// add returns the add of a data file for write w at path, after writing the file.
func (cw *chaosWriter) add(ctx context.Context, w chaosWrite, path string) (lake.Add, error) {
	p := []string{"a", "b"}[int(w.tag[len(w.tag)-1])%2]
	a := FileAdd("", 0, p)
	a.Path = lake.EncodePath(fmt.Sprintf("p=%s/%s.parquet", p, path))
	a.Tags = map[string]string{"write": w.tag}
	body := []byte(w.tag)
	a.Size = int64(len(body))
	err := cw.store.Put(ctx, cw.tbl.Key(fmt.Sprintf("p=%s/%s.parquet", p, path)), bytes.NewReader(body), a.Size)
	return a, err
}

// blind appends a file without a txn: a crash here could double it, so the writer
// keeps the same Tx and commits it again until it knows the outcome.
func (cw *chaosWriter) blind(ctx context.Context, w chaosWrite) (bool, error) {
	path := fmt.Sprintf("part-w%d-%s", cw.id, w.tag[len(w.tag)-3:])
	a, err := cw.add(ctx, w, path)
	if err != nil {
		return false, err // the file is re-written under the same name
	}
	snap, err := cw.tbl.Latest(ctx)
	if err != nil {
		return false, err
	}
	err = retryCommit(ctx, func() (*lake.Tx, error) {
		tx := cw.tbl.Begin(snap)
		tx.Add(a)
		tx.Operation("WRITE", map[string]any{"mode": "Append"})
		return tx, nil
	})
	return err == nil, err
}

// keyed appends a file with the writer's txn: after any error the writer acts as if
// it crashed, forgetting the Tx and its data file, and starts again from the log.
func (cw *chaosWriter) keyed(ctx context.Context, w chaosWrite) (bool, error) {
	app := fmt.Sprintf("writer-%d", cw.id)
	snap, err := cw.tbl.Latest(ctx)
	if err != nil {
		return false, err
	}
	if v, ok := snap.TxnVersion(app); ok && v >= w.seq {
		return true, nil // an earlier attempt landed
	}
	a, err := cw.add(ctx, w, fmt.Sprintf("part-w%d-%s-%08x", cw.id, w.tag[len(w.tag)-3:], rand.Uint32()))
	if err != nil {
		return false, err
	}
	tx := cw.tbl.Begin(snap)
	tx.Add(a)
	tx.SetTxn(app, w.seq)
	tx.Operation("STREAMING UPDATE", map[string]any{"outputMode": "Append"})
	_, err = tx.Commit(ctx)
	return err == nil, err
}

// remove takes out the file of an earlier write of this writer. Only its writer
// removes a file, so finding it gone means an earlier attempt landed.
func (cw *chaosWriter) remove(ctx context.Context, w chaosWrite) (bool, error) {
	snap, err := cw.tbl.Latest(ctx)
	if err != nil {
		return false, err
	}
	var target *lake.Add
	for _, a := range snap.Files() {
		if a.Tags["write"] == w.target {
			target = &a
			break
		}
	}
	if target == nil {
		return true, nil
	}
	tx := cw.tbl.Begin(snap)
	tx.Remove(target.RemoveAt(time.Now()))
	tx.Operation("DELETE", nil)
	_, err = tx.Commit(ctx)
	return err == nil, err
}
