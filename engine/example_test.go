package engine_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/lakectl/lakectl/engine"
)

// SQL that a user wrote runs in a sealed session: checked first, which also says the
// tables it names, then run once those tables are registered and the session sealed.
func ExampleSession_Seal() {
	ctx := context.Background()
	sess, err := engine.Open(ctx, engine.Config{MemoryLimit: "256MiB", Threads: 1})
	if err != nil {
		panic(err)
	}
	defer sess.Close()

	q, err := sess.ParseUserSQL(ctx, "SELECT 6 * 7 AS answer")
	if err != nil {
		panic(err)
	}
	fmt.Println("tables named:", len(q.Tables))
	// Register the tables of q.Tables here, with sess.RegisterTable, then seal.
	if err := sess.Seal(ctx, engine.SealOptions{}); err != nil {
		panic(err)
	}
	var answer int
	rows, err := sess.QueryUser(ctx, q)
	if err != nil {
		panic(err)
	}
	for rows.Next() {
		rows.Scan(&answer)
	}
	rows.Close()
	fmt.Println("answer:", answer)

	_, err = sess.ParseUserSQL(ctx, "COPY (SELECT 1) TO 'x.csv'")
	var refused *engine.RefusedError
	fmt.Println("COPY refused:", errors.As(err, &refused))
	// Output:
	// tables named: 0
	// answer: 42
	// COPY refused: true
}
