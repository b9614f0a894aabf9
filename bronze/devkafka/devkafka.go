// Package devkafka runs a development Kafka broker (franz-go's kfake) that other
// processes reach over TCP. It keeps everything in memory unless given a data
// directory, has no security, and exists for development and tests: it is NOT for
// production.
//
//	b, err := devkafka.Start(devkafka.Config{Listen: "127.0.0.1:9092", Topics: map[string]int32{"events": 4}})
//	defer b.Close()
//	fmt.Println(b.Addr())
package devkafka

import (
	"fmt"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Config configures the broker.
type Config struct {
	// Listen is the TCP address; port 0 picks a free one. Default 127.0.0.1:9092.
	Listen string
	// Topics to create, with their partition counts. Other topics are created on
	// first use with DefaultPartitions.
	Topics map[string]int32
	// DefaultPartitions of auto-created topics. Default 4.
	DefaultPartitions int32
	// DataDir persists the broker's state across restarts when set.
	DataDir string
}

// Broker is a running development broker.
type Broker struct {
	c *kfake.Cluster
}

// Start starts the broker.
func Start(cfg Config) (*Broker, error) {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:9092"
	}
	if cfg.DefaultPartitions <= 0 {
		cfg.DefaultPartitions = 4
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("dev kafka: listen on %s: %w", cfg.Listen, err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	var p int
	fmt.Sscan(port, &p)
	used := false
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(p),
		// Hand kfake the listener opened above, so the address is known to be ours.
		kfake.ListenFn(func(network, address string) (net.Listener, error) {
			if !used {
				used = true
				return ln, nil
			}
			return net.Listen(network, address)
		}),
		kfake.AllowAutoTopicCreation(),
		// Short sessions let development members that were killed be replaced fast.
		kfake.GroupMinSessionTimeout(500 * time.Millisecond),
		kfake.DefaultNumPartitions(int(cfg.DefaultPartitions)),
	}
	for topic, n := range cfg.Topics {
		opts = append(opts, kfake.SeedTopics(n, topic))
	}
	if cfg.DataDir != "" {
		opts = append(opts, kfake.DataDir(cfg.DataDir))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("dev kafka: start: %w", err)
	}
	return &Broker{c: c}, nil
}

// Addr is the address clients connect to.
func (b *Broker) Addr() string { return b.c.ListenAddrs()[0] }

// Cluster exposes the kfake cluster, for tests that inject faults.
func (b *Broker) Cluster() *kfake.Cluster { return b.c }

// Close stops the broker.
func (b *Broker) Close() { b.c.Close() }
