package layout_test

import (
	"fmt"
	"time"

	"github.com/lakectl/lakectl/bronze/layout"
)

func ExampleParseHour() {
	h, err := layout.ParseHour("2026-11-21T08")
	if err != nil {
		panic(err)
	}
	fmt.Println(h, layout.PartitionDir(h))
	fmt.Println("sealed once every mark passes", h.End().Add(layout.DefaultGrace).Format(time.RFC3339))
	// Output:
	// 2026-11-21T08 ingest_date=2026-11-21/ingest_hour=8
	// sealed once every mark passes 2026-11-21T09:05:00Z
}
