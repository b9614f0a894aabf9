package lake

import (
	"encoding/json"
	"time"

	"github.com/lakectl/lakectl/lake/internal/bound"
)

// Action is one line of a Delta commit file: exactly one of its fields is set.
type Action struct {
	Add        *Add        `json:"add,omitempty"`
	Remove     *Remove     `json:"remove,omitempty"`
	Metadata   *Metadata   `json:"metaData,omitempty"`
	Protocol   *Protocol   `json:"protocol,omitempty"`
	Txn        *Txn        `json:"txn,omitempty"`
	CommitInfo *CommitInfo `json:"commitInfo,omitempty"`
}

// count returns how many of the actions lakectl knows are set: 1 for a valid line of
// a known type, 0 for an action type lakectl does not read.
func (a *Action) count() int {
	n := 0
	for _, set := range []bool{a.Add != nil, a.Remove != nil, a.Metadata != nil, a.Protocol != nil, a.Txn != nil, a.CommitInfo != nil} {
		if set {
			n++
		}
	}
	return n
}

// Add makes a data file part of the table.
type Add struct {
	// Path is relative to the table root and URL-encoded as the protocol requires;
	// absolute URLs are allowed by the protocol and kept as they are.
	Path             string             `json:"path"`
	PartitionValues  map[string]*string `json:"partitionValues"`
	Size             int64              `json:"size"`
	ModificationTime int64              `json:"modificationTime"` // ms since the epoch
	DataChange       bool               `json:"dataChange"`
	Stats            string             `json:"stats,omitempty"` // JSON of Stats
	Tags             map[string]string  `json:"tags,omitempty"`
	// DeletionVector is only read to refuse tables that use them.
	DeletionVector json.RawMessage `json:"deletionVector,omitempty"`
}

// Remove takes a data file out of the table. The file itself stays until vacuum.
type Remove struct {
	Path                 string             `json:"path"`
	DeletionTimestamp    int64              `json:"deletionTimestamp,omitempty"` // ms
	DataChange           bool               `json:"dataChange"`
	ExtendedFileMetadata bool               `json:"extendedFileMetadata,omitempty"`
	PartitionValues      map[string]*string `json:"partitionValues,omitempty"`
	Size                 int64              `json:"size,omitempty"`
	Tags                 map[string]string  `json:"tags,omitempty"`
}

// Metadata holds the table's identity, schema and partitioning.
type Metadata struct {
	ID               string            `json:"id"`
	Name             string            `json:"name,omitempty"`
	Description      string            `json:"description,omitempty"`
	Format           Format            `json:"format"`
	SchemaString     string            `json:"schemaString"`
	PartitionColumns []string          `json:"partitionColumns"`
	Configuration    map[string]string `json:"configuration"`
	CreatedTime      *int64            `json:"createdTime,omitempty"` // ms
}

// Format names the data file format; always parquet.
type Format struct {
	Provider string            `json:"provider"`
	Options  map[string]string `json:"options"`
}

// Protocol states the reader and writer versions (and, from 3/7, features) a client
// must support to read or write the table.
type Protocol struct {
	MinReaderVersion int      `json:"minReaderVersion"`
	MinWriterVersion int      `json:"minWriterVersion"`
	ReaderFeatures   []string `json:"readerFeatures,omitempty"`
	WriterFeatures   []string `json:"writerFeatures,omitempty"`
}

// Txn records the latest version an application wrote, for idempotent writes.
type Txn struct {
	AppID       string `json:"appId"`
	Version     int64  `json:"version"`
	LastUpdated *int64 `json:"lastUpdated,omitempty"` // ms
}

// CommitInfo is free-form provenance; lakectl writes operation, parameters, the time,
// and its lineage facts (job, inputs and the versions read).
type CommitInfo map[string]any

// Stats are the per-file statistics carried in Add.Stats, used to skip files.
type Stats struct {
	NumRecords int64          `json:"numRecords"`
	MinValues  map[string]any `json:"minValues,omitempty"`
	MaxValues  map[string]any `json:"maxValues,omitempty"`
	NullCount  map[string]any `json:"nullCount,omitempty"`
}

// StatsTimestamp renders a timestamp bound of Stats, in microseconds since the epoch,
// as every lakectl writer does: RFC 3339 in UTC with all six fractional digits, the
// exact value. The protocol lets writers truncate to milliseconds; an exact bound
// skips at least as many files and needs no widening by a reader.
func StatsTimestamp(us int64) string { return bound.TimestampString(us) }

// ParseStats decodes the add's stats; ok is false when the file has none.
func (a *Add) ParseStats() (s Stats, ok bool, err error) {
	if a.Stats == "" {
		return Stats{}, false, nil
	}
	err = json.Unmarshal([]byte(a.Stats), &s)
	return s, err == nil, err
}

// Millis converts t to the protocol's milliseconds since the epoch.
func Millis(t time.Time) int64 { return t.UnixMilli() }
