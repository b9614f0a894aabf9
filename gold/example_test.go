package gold_test

import (
	"context"
	"fmt"
	"os"

	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/gold"
	"github.com/lakectl/lakectl/pipeline"
)

// Load reads the models of a pipeline, checked, in dependency order, with the inputs
// that DuckDB's parser found in their SQL.
func ExampleLoad() {
	dir, _ := os.MkdirTemp("", "pipeline")
	defer os.RemoveAll(dir)
	if _, err := pipeline.WriteExample(dir); err != nil {
		panic(err)
	}
	p, err := pipeline.Load(dir, pipeline.Overrides{})
	if err != nil {
		panic(err)
	}
	models, err := gold.Load(context.Background(), p, engine.Config{Threads: 1})
	if err != nil {
		panic(err) // a *gold.ModelError names the file and line
	}
	for _, m := range models.Order {
		fmt.Println(m.Name, "partition", m.Partition, "inputs", m.Inputs, "audits", len(m.Audits))
	}
	// Output:
	// daily_metrics partition event_date inputs [silver.events] audits 3
	// user_daily partition event_date inputs [silver.events] audits 3
}
