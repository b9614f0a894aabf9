// Command lakectl is the medallion lakehouse toolkit: Delta tables in object storage,
// exactly-once ingest into Bronze, hourly Silver jobs, daily Gold models with lineage,
// materialized views at their consumers' freshness, and `serve`, which schedules them
// and serves dashboards over HTTP and the Postgres wire protocol.
//
//	lakectl table show ./lake/bronze/events --json
//	lakectl vacuum s3://lake/silver/events --retain 168h --dry-run
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go onSignals(sigs, cancel)
	err := newRootCmd().ExecuteContext(ctx)
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "lakectl:", err)
	var hinted interface{ Hint() string }
	if errors.As(err, &hinted) && hinted.Hint() != "" {
		fmt.Fprintln(os.Stderr, "hint:", hinted.Hint())
	}
	os.Exit(1)
}

// onSignals cancels the commands' context at the first SIGINT or SIGTERM: every
// long-running command then stops at a clean point (ingest within its
// --shutdown-timeout). A second signal exits at once, with the shell's status for a
// process killed by it, dropping whatever was not committed yet; every write being
// one atomic commit, nothing is left half written.
func onSignals(sigs <-chan os.Signal, cancel context.CancelFunc) {
	<-sigs
	cancel()
	sig := <-sigs
	fmt.Fprintf(os.Stderr, "lakectl: %s again: exiting now; what was not committed is dropped\n", sig)
	code := 1
	if s, ok := sig.(syscall.Signal); ok {
		code = 128 + int(s)
	}
	os.Exit(code)
}
