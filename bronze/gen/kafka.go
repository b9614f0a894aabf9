package gen

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

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
	defer cl.Close()
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
	if err := cl.Flush(context.WithoutCancel(ctx)); err != nil {
		return tl.summary(), fmt.Errorf("gen: flush to %s: %w", t.Topic, err)
	}
	s := tl.summary()
	if ctx.Err() != nil {
		return s, ctx.Err()
	}
	return s, nil
}
