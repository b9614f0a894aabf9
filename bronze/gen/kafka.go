package gen

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// stopFlushTimeout bounds the wait for records in flight once ctx has ended.
const stopFlushTimeout = 5 * time.Second

// KafkaTarget is a topic to produce to.
type KafkaTarget struct {
	Brokers []string
	Topic   string
	// Options are extra franz-go options, applied last.
	Options []kgo.Opt
}

// ToKafka produces every event of g to the topic, keyed by user id, with the
// idempotent producer (so broker retries add no duplicates of their own), and
// waits for every acknowledgement.
func ToKafka(ctx context.Context, g *Generator, t KafkaTarget) (Summary, error) {
	opts := []kgo.Opt{
		kgo.SeedBrokers(t.Brokers...),
		kgo.DefaultProduceTopic(t.Topic),
		kgo.ProducerLinger(5 * time.Millisecond),
		kgo.AllowAutoTopicCreation(),
	}
	cl, err := kgo.NewClient(append(opts, t.Options...)...)
	if err != nil {
		return Summary{}, fmt.Errorf("gen: kafka client for %v: %w", t.Brokers, err)
	}
	tl := newTally("kafka://" + t.Topic)
	p := pacer{rate: g.cfg.Rate, start: time.Now()}
	for i := int64(0); !g.Done(); i++ {
		if !p.wait(i, ctx.Done()) || ctx.Err() != nil {
			break
		}
		key, payload, kind, id := g.Next()
		rec := &kgo.Record{Key: key, Value: payload}
		cl.Produce(ctx, rec, func(r *kgo.Record, err error) {
			tl.ack(kind, id, len(r.Value), err)
		})
	}
	// Wait for the records in flight; after a signal only briefly, since the
	// broker may be what is failing: records still unacknowledged then are
	// failed by Close, and the summary counts them so.
	fctx, cancel := context.WithoutCancel(ctx), context.CancelFunc(func() {})
	if ctx.Err() != nil {
		fctx, cancel = context.WithTimeout(fctx, stopFlushTimeout)
	}
	ferr := cl.Flush(fctx)
	cancel()
	cl.Close()
	if ferr != nil && ctx.Err() == nil {
		return tl.summary(), fmt.Errorf("gen: flush to %s: %w", t.Topic, ferr)
	}
	s := tl.summary()
	if ctx.Err() != nil {
		return s, ctx.Err()
	}
	return s, nil
}
