package views_test

import (
	"context"
	"fmt"
	"os"

	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/pipeline"
	"github.com/lakectl/lakectl/views"
)

// Load reads the views of a pipeline, checked, with the inputs that DuckDB's parser
// found in their SQL and the time column each is refreshed by.
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
	vs, err := views.Load(context.Background(), p, engine.Config{Threads: 1})
	if err != nil {
		panic(err) // a *gold.ModelError names the file and line
	}
	for _, v := range vs.Order {
		fmt.Printf("%s inputs %v time %q\n", v.Name, v.Inputs, v.Time)
	}
	// Output:
	// daily_summary inputs [silver.events] time "event_date"
	// hourly_trends inputs [silver.events] time "hour"
	// realtime_kpis inputs [silver.events] time ""
}
