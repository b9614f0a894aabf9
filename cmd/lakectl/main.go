// Command lakectl is the medallion lakehouse toolkit: Delta tables in object storage,
// exactly-once ingest into Bronze and hourly Silver jobs (Gold models and materialized
// views are designed but not built yet).
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
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
