package lake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/snappy"
)

// A classic (V1) checkpoint is a Parquet file of one row per action, each row with
// exactly one of the columns txn, add, remove, metaData, protocol set. Reading goes by
// column path through parquet-go's schema conversion: columns a writer added that are
// not below (commitInfo, deletionVector, ...) are ignored, and columns below that a
// file lacks read as null. The typed add.stats_parsed and add.partitionValues_parsed,
// whose shape follows the table's schema, are read beside them (checkpointparsed.go).

type cpRow struct {
	Txn      *cpTxn      `parquet:"txn,optional"`
	Add      *cpAdd      `parquet:"add,optional"`
	Remove   *cpRemove   `parquet:"remove,optional"`
	Metadata *cpMetadata `parquet:"metaData,optional"`
	Protocol *cpProtocol `parquet:"protocol,optional"`
}

type cpTxn struct {
	AppID       string `parquet:"appId,optional"`
	Version     int64  `parquet:"version"`
	LastUpdated *int64 `parquet:"lastUpdated,optional"`
}

type cpAdd struct {
	Path             string             `parquet:"path,optional"`
	PartitionValues  map[string]*string `parquet:"partitionValues,optional"`
	Size             int64              `parquet:"size"`
	ModificationTime int64              `parquet:"modificationTime"`
	DataChange       bool               `parquet:"dataChange"`
	Stats            *string            `parquet:"stats,optional"`
	Tags             map[string]*string `parquet:"tags,optional"`
}

// cpRemove is a tombstone as the protocol's checkpoint schema has it: only what
// vacuum needs, no stats and no tags.
type cpRemove struct {
	Path                 string             `parquet:"path,optional"`
	DeletionTimestamp    *int64             `parquet:"deletionTimestamp,optional"`
	DataChange           bool               `parquet:"dataChange"`
	ExtendedFileMetadata *bool              `parquet:"extendedFileMetadata,optional"`
	PartitionValues      map[string]*string `parquet:"partitionValues,optional"`
	Size                 *int64             `parquet:"size,optional"`
}

type cpFormat struct {
	Provider string             `parquet:"provider,optional"`
	Options  map[string]*string `parquet:"options,optional"`
}

type cpMetadata struct {
	ID               string             `parquet:"id,optional"`
	Name             *string            `parquet:"name,optional"`
	Description      *string            `parquet:"description,optional"`
	Format           *cpFormat          `parquet:"format,optional"`
	SchemaString     string             `parquet:"schemaString,optional"`
	PartitionColumns []string           `parquet:"partitionColumns,list,optional"`
	Configuration    map[string]*string `parquet:"configuration,optional"`
	CreatedTime      *int64             `parquet:"createdTime,optional"`
}

type cpProtocol struct {
	MinReaderVersion int32    `parquet:"minReaderVersion"`
	MinWriterVersion int32    `parquet:"minWriterVersion"`
	ReaderFeatures   []string `parquet:"readerFeatures,list,optional"`
	WriterFeatures   []string `parquet:"writerFeatures,list,optional"`
}

// checkpointRowGroup bounds the rows per row group of a checkpoint we write.
const checkpointRowGroup = 64 << 10

// errBadCheckpoint marks a checkpoint that was read but does not decode (torn, or
// written by something else): a reader skips it, unlike one the store failed to deliver.
var errBadCheckpoint = errors.New("checkpoint does not decode")

// readCheckpoint reads the parts of a checkpoint into a fresh state.
func (t *Table) readCheckpoint(ctx context.Context, parts []ObjectInfo) (*state, error) {
	st := newState()
	for _, p := range parts {
		data, err := ReadAll(ctx, t.store, p.Key)
		if err != nil {
			return nil, fmt.Errorf("read checkpoint %s: %w", p.Key, err)
		}
		if err := readCheckpointFile(data, st); err != nil {
			return nil, fmt.Errorf("read checkpoint %s: %w: %w", p.Key, errBadCheckpoint, err)
		}
	}
	return st, nil
}

func readCheckpointFile(data []byte, st *state) (err error) {
	defer func() {
		// parquet-go panics on some malformed files; a bad checkpoint is an error.
		if r := recover(); r != nil {
			err = fmt.Errorf("decode parquet: %v", r)
		}
	}()
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return fmt.Errorf("open parquet: %w", err)
	}
	parsed, err := readParsed(f)
	if err != nil {
		return err
	}
	r := parquet.NewGenericReader[cpRow](f)
	defer r.Close()
	rows := make([]cpRow, 256)
	for base := 0; ; {
		n, err := r.Read(rows)
		for i := range rows[:n] {
			if parsed != nil && rows[i].Add != nil {
				parsed.fill(base+i, rows[i].Add)
			}
			rows[i].applyTo(st)
			rows[i] = cpRow{}
		}
		base += n
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (row *cpRow) applyTo(st *state) {
	switch {
	case row.Add != nil:
		a := row.Add
		add := Add{Path: a.Path, PartitionValues: nonNilMap(a.PartitionValues), Size: a.Size,
			ModificationTime: a.ModificationTime, DataChange: a.DataChange, Tags: stringMap(a.Tags)}
		if a.Stats != nil {
			add.Stats = *a.Stats
		}
		st.apply(Action{Add: &add})
	case row.Remove != nil:
		r := row.Remove
		rm := Remove{Path: r.Path, DataChange: r.DataChange, PartitionValues: r.PartitionValues}
		if r.DeletionTimestamp != nil {
			rm.DeletionTimestamp = *r.DeletionTimestamp
		}
		if r.ExtendedFileMetadata != nil {
			rm.ExtendedFileMetadata = *r.ExtendedFileMetadata
		}
		if r.Size != nil {
			rm.Size = *r.Size
		}
		st.apply(Action{Remove: &rm})
	case row.Metadata != nil:
		m := row.Metadata
		md := Metadata{ID: m.ID, SchemaString: m.SchemaString, PartitionColumns: m.PartitionColumns,
			Configuration: stringMap(m.Configuration), CreatedTime: m.CreatedTime}
		if md.PartitionColumns == nil {
			md.PartitionColumns = []string{}
		}
		if md.Configuration == nil {
			md.Configuration = map[string]string{}
		}
		if m.Name != nil {
			md.Name = *m.Name
		}
		if m.Description != nil {
			md.Description = *m.Description
		}
		md.Format = Format{Provider: "parquet", Options: map[string]string{}}
		if m.Format != nil {
			md.Format = Format{Provider: m.Format.Provider, Options: nonNilStringMap(stringMap(m.Format.Options))}
		}
		st.apply(Action{Metadata: &md})
	case row.Protocol != nil:
		p := row.Protocol
		proto := Protocol{MinReaderVersion: int(p.MinReaderVersion), MinWriterVersion: int(p.MinWriterVersion)}
		if len(p.ReaderFeatures) > 0 {
			proto.ReaderFeatures = p.ReaderFeatures
		}
		if len(p.WriterFeatures) > 0 {
			proto.WriterFeatures = p.WriterFeatures
		}
		st.apply(Action{Protocol: &proto})
	case row.Txn != nil:
		st.apply(Action{Txn: &Txn{AppID: row.Txn.AppID, Version: row.Txn.Version, LastUpdated: row.Txn.LastUpdated}})
	}
}

// stringMap drops the nulls of a Parquet map<string,string>.
func stringMap(m map[string]*string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if v != nil {
			out[k] = *v
		}
	}
	return out
}

func nonNilMap(m map[string]*string) map[string]*string {
	if m == nil {
		return map[string]*string{}
	}
	return m
}

func nonNilStringMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func nullableMap(m map[string]string) map[string]*string {
	if m == nil {
		return nil
	}
	out := make(map[string]*string, len(m))
	for k, v := range m {
		out[k] = &v
	}
	return out
}

// encodeCheckpoint writes the state of a snapshot as a checkpoint: protocol, metadata,
// txns, live files and the tombstones younger than retain (vacuum needs them so as to
// keep their files; older ones only cost space).
func encodeCheckpoint(s *Snapshot, now time.Time, retain time.Duration) ([]byte, int64, error) {
	st := s.state
	rows := make([]cpRow, 0, 2+len(st.txns)+len(st.files)+len(st.tombstones))
	p := s.Protocol
	rows = append(rows, cpRow{Protocol: &cpProtocol{MinReaderVersion: int32(p.MinReaderVersion), MinWriterVersion: int32(p.MinWriterVersion),
		ReaderFeatures: p.ReaderFeatures, WriterFeatures: p.WriterFeatures}})
	md := s.Metadata
	cm := &cpMetadata{ID: md.ID, SchemaString: md.SchemaString, PartitionColumns: nonNilSlice(md.PartitionColumns),
		Configuration: nullableMap(nonNilStringMap(md.Configuration)), CreatedTime: md.CreatedTime,
		Format: &cpFormat{Provider: md.Format.Provider, Options: nullableMap(nonNilStringMap(md.Format.Options))}}
	if md.Name != "" {
		cm.Name = &md.Name
	}
	if md.Description != "" {
		cm.Description = &md.Description
	}
	rows = append(rows, cpRow{Metadata: cm})
	apps := make([]string, 0, len(st.txns))
	for id := range st.txns {
		apps = append(apps, id)
	}
	sort.Strings(apps)
	for _, id := range apps {
		tx := st.txns[id]
		rows = append(rows, cpRow{Txn: &cpTxn{AppID: tx.AppID, Version: tx.Version, LastUpdated: tx.LastUpdated}})
	}
	for _, a := range s.Files() {
		ca := &cpAdd{Path: a.Path, PartitionValues: nonNilMap(a.PartitionValues), Size: a.Size,
			ModificationTime: a.ModificationTime, DataChange: false, Tags: nullableMap(a.Tags)}
		if a.Stats != "" {
			ca.Stats = &a.Stats
		}
		rows = append(rows, cpRow{Add: ca})
	}
	cutoff := now.Add(-retain).UnixMilli()
	for _, r := range s.Tombstones() {
		if r.DeletionTimestamp < cutoff {
			continue
		}
		cr := &cpRemove{Path: r.Path, DataChange: false, PartitionValues: r.PartitionValues}
		cr.DeletionTimestamp = &r.DeletionTimestamp
		cr.ExtendedFileMetadata = &r.ExtendedFileMetadata
		if r.ExtendedFileMetadata {
			cr.Size = &r.Size
		}
		rows = append(rows, cpRow{Remove: cr})
	}
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[cpRow](&buf, parquet.Compression(&snappy.Codec{}),
		parquet.MaxRowsPerRowGroup(checkpointRowGroup))
	if _, err := w.Write(rows); err != nil {
		return nil, 0, fmt.Errorf("encode checkpoint: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, 0, fmt.Errorf("encode checkpoint: %w", err)
	}
	return buf.Bytes(), int64(len(rows)), nil
}

func nonNilSlice(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Checkpoint writes a checkpoint of snapshot s and then points _last_checkpoint at it
// (unless that already names a newer one). Rewriting an existing checkpoint is
// harmless: its content is determined by the version.
func (t *Table) Checkpoint(ctx context.Context, s *Snapshot) error {
	if err := checkWrite(s.Protocol, &s.Metadata); err != nil {
		return fmt.Errorf("checkpoint %s v%d: %w", t, s.Version, err)
	}
	data, size, err := encodeCheckpoint(s, t.now(), defaultRetention)
	if err != nil {
		return fmt.Errorf("checkpoint %s v%d: %w", t, s.Version, err)
	}
	key := t.Key(logDir + checkpointName(s.Version))
	if err := t.store.Put(ctx, key, bytes.NewReader(data), int64(len(data))); err != nil {
		return fmt.Errorf("checkpoint %s v%d: %w", t, s.Version, err)
	}
	if lc, ok, err := t.readLastCheckpoint(ctx); err != nil {
		return fmt.Errorf("checkpoint %s v%d: %w", t, s.Version, err)
	} else if ok && lc.Version >= s.Version {
		return nil
	}
	hint, err := json.Marshal(lastCheckpoint{Version: s.Version, Size: size})
	if err != nil {
		return fmt.Errorf("checkpoint %s v%d: %w", t, s.Version, err)
	}
	if err := t.store.Put(ctx, t.Key(logDir+lastCheckpointName), bytes.NewReader(hint), int64(len(hint))); err != nil {
		return fmt.Errorf("checkpoint %s v%d: write _last_checkpoint: %w", t, s.Version, err)
	}
	return nil
}
