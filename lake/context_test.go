package lake_test

import "context"

// childContext is the context of a re-executed child process, which has no test.
func childContext() context.Context { return context.Background() }
