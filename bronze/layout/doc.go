// Package layout is what every layer knows about a Bronze table without ingesting
// into it: where it lives (TableRoot), how it is partitioned (ColIngestDate,
// ColIngestHour, Hour), how its log names the sources' sealing marks
// (KafkaWatermarkAppID, HTTPWatermarkAppID) and when an ingest hour is sealed
// (IsSealed). Silver and Gold read Bronze through this package alone, so they do not
// link the ingest service or its Kafka client; package bronze writes by the same rules.
//
//	snap, err := lake.NewTable(store, layout.TableRoot("events")).Latest(ctx)
//	h, err := layout.ParseHour("2026-11-21T08")
//	if layout.IsSealed(snap, h, layout.DefaultGrace) {
//		// every file of hour h is committed, and no later commit adds to it
//	}
package layout
