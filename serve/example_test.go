package serve_test

import (
	"context"
	"fmt"
	"time"

	"github.com/lakectl/lakectl/serve"
)

func ExampleNewScheduler() {
	s, err := serve.NewScheduler(serve.SchedulerConfig{Tasks: []serve.Task{{
		Name: "views/hourly_trends",
		Spec: serve.Every(5 * time.Minute),
		Run:  func(ctx context.Context) (int64, error) { return 24, nil }, // a refresh that wrote 24 rows
	}}})
	if err != nil {
		panic(err)
	}
	s.RunOnce(context.Background(), "views/hourly_trends")
	st := s.Status()[0]
	fmt.Println(st.Name, st.Spec, st.Runs, st.LastRows)

	_, err = serve.NewScheduler(serve.SchedulerConfig{Tasks: []serve.Task{{Name: "t", Spec: "CRON_TZ=UTC 0 * * * *"}}})
	fmt.Println(err)
	// Output:
	// views/hourly_trends @every 5m0s 1 24
	// task t: spec "CRON_TZ=UTC 0 * * * *": time zone specs are refused (robfig/cron has known panics with them); use @every
}
