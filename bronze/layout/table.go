package layout

import (
	"strconv"
	"time"

	"github.com/lakectl/lakectl/lake"
)

// TableRoot is the key prefix of the Bronze table of a stream.
func TableRoot(stream string) string { return "bronze/" + stream }

// Partition columns of every Bronze table, in path order.
const (
	ColIngestDate = "ingest_date"
	ColIngestHour = "ingest_hour"
)

// PartitionValues returns the Delta partition values of hour h.
func PartitionValues(h Hour) map[string]*string {
	t := h.Time()
	date := t.Format("2006-01-02")
	hour := strconv.Itoa(t.Hour())
	return map[string]*string{ColIngestDate: &date, ColIngestHour: &hour}
}

// PartitionColumns are the partition columns of every Bronze table, in path order.
var PartitionColumns = []string{ColIngestDate, ColIngestHour}

// PartitionDir returns the Hive-style directory of hour h inside the table, named
// by its partition values as every lakectl writer names them (lake.PartitionDir):
// ingest_date=2026-11-20/ingest_hour=9.
func PartitionDir(h Hour) string {
	return lake.PartitionDir(PartitionColumns, PartitionValues(h))
}

// FileHour reads the ingest hour of a Bronze file from its partition values; false
// when they are missing or do not name an hour.
func FileHour(a *lake.Add) (Hour, bool) {
	d, hh := a.PartitionValues[ColIngestDate], a.PartitionValues[ColIngestHour]
	if d == nil || hh == nil {
		return Hour{}, false
	}
	day, err := time.ParseInLocation("2006-01-02", *d, time.UTC)
	if err != nil {
		return Hour{}, false
	}
	n, err := strconv.Atoi(*hh)
	if err != nil || n < 0 || n > 23 {
		return Hour{}, false
	}
	return HourOf(day.Add(time.Duration(n) * time.Hour)), true
}
