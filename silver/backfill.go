package silver

import (
	"context"
	"errors"

	"github.com/lakectl/lakectl/bronze/layout"
)

// RunHours runs ingest hours of table in the order given (a backfill), passing each
// hour's summary to each. Without opts.Force it stops at the first hour that is not
// sealed yet: the hours before it are processed, and it returns that hour's
// *UnsealedError with Done set to how many hours ran before it. Sealing follows the
// Bronze watermarks, so the hours after an open one are open too; there is no point
// in skipping ahead. Any other error stops the backfill as it is.
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
