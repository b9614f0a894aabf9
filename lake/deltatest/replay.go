package deltatest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/lakectl/lakectl/lake"
)

// Replay is an independent reading of a table's JSON commits: generic JSON decoding
// and the protocol's reconciliation rules, none of package lake's log code, so that
// what lake's snapshots and checkpoints say can be checked against it.
type Replay struct {
	Latest   int64                     // the newest JSON commit
	Protocol map[string]any            // the last protocol action
	Metadata map[string]any            // the last metaData action
	Files    map[string]map[string]any // live files: decoded path -> add
	Txns     map[string]int64          // appId -> version
	// Adds and Removes count, over the whole log, the add and remove actions per value
	// of the data file's "write" tag (the logical write that made the file).
	Adds, Removes map[string]int
}

// ReplayJSON replays the JSON commits 0..upTo (-1: all) of the table at root. It fails
// when a version in that range has no commit: versions must be contiguous from 0.
func ReplayJSON(ctx context.Context, store lake.Store, root string, upTo int64) (*Replay, error) {
	versions, err := commitVersions(ctx, store, root)
	if err != nil {
		return nil, err
	}
	if len(versions) == 0 {
		return nil, fmt.Errorf("replay %s: no JSON commits", root)
	}
	for i, v := range versions {
		if v != int64(i) {
			return nil, fmt.Errorf("replay %s: the log has v%d where v%d belongs: versions are not contiguous", root, v, i)
		}
	}
	r := &Replay{Latest: versions[len(versions)-1], Files: map[string]map[string]any{}, Txns: map[string]int64{},
		Adds: map[string]int{}, Removes: map[string]int{}}
	if upTo < 0 {
		upTo = r.Latest
	}
	if upTo > r.Latest {
		return nil, fmt.Errorf("replay %s: v%d is past the latest commit v%d", root, upTo, r.Latest)
	}
	for v := int64(0); v <= upTo; v++ {
		if err := r.apply(ctx, store, root, v); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// commitVersions lists the versions of the JSON commits in the table's log, sorted.
func commitVersions(ctx context.Context, store lake.Store, root string) ([]int64, error) {
	prefix := root + "/_delta_log/"
	objs, err := store.List(ctx, prefix, "")
	if err != nil {
		return nil, fmt.Errorf("replay %s: list log: %w", root, err)
	}
	var out []int64
	for _, o := range objs {
		name := strings.TrimPrefix(o.Key, prefix)
		digits, ok := strings.CutSuffix(name, ".json")
		if !ok || len(digits) != 20 {
			continue
		}
		v, err := strconv.ParseInt(digits, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("replay %s: bad commit name %s", root, name)
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

func (r *Replay) apply(ctx context.Context, store lake.Store, root string, v int64) error {
	data, err := lake.ReadAll(ctx, store, fmt.Sprintf("%s/_delta_log/%020d.json", root, v))
	if err != nil {
		return fmt.Errorf("replay %s v%d: %w", root, v, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	for dec.More() {
		var line map[string]map[string]any
		if err := dec.Decode(&line); err != nil {
			return fmt.Errorf("replay %s v%d: %w", root, v, err)
		}
		for kind, a := range line {
			switch kind {
			case "protocol":
				r.Protocol = a
			case "metaData":
				r.Metadata = a
			case "add":
				p := unescape(a["path"])
				r.Files[p] = a
				r.Adds[writeTag(a)]++
			case "remove":
				delete(r.Files, unescape(a["path"]))
				r.Removes[writeTag(a)]++
			case "txn":
				n, err := a["version"].(json.Number).Int64()
				if err != nil {
					return fmt.Errorf("replay %s v%d: txn version: %w", root, v, err)
				}
				r.Txns[a["appId"].(string)] = n
			}
		}
	}
	return nil
}

func unescape(p any) string {
	s, _ := p.(string)
	if d, err := url.PathUnescape(s); err == nil {
		return d
	}
	return s
}

// writeTag returns the "write" tag of an add or remove, "" when it has none.
func writeTag(a map[string]any) string {
	tags, _ := a["tags"].(map[string]any)
	s, _ := tags["write"].(string)
	return s
}

// Digest renders the replay's state (protocol, metadata, txns, live files) as text
// that compares equal to SnapshotDigest of a snapshot with the same state.
func (r *Replay) Digest() string {
	var b strings.Builder
	fmt.Fprintf(&b, "protocol %v/%v\n", r.Protocol["minReaderVersion"], r.Protocol["minWriterVersion"])
	conf, _ := json.Marshal(r.Metadata["configuration"])
	parts, _ := json.Marshal(r.Metadata["partitionColumns"])
	desc, _ := r.Metadata["description"].(string)
	fmt.Fprintf(&b, "metadata id=%v partitions=%s conf=%s description=%q\nschema %v\n", r.Metadata["id"], parts, conf, desc, r.Metadata["schemaString"])
	var lines []string
	for id, v := range r.Txns {
		lines = append(lines, fmt.Sprintf("txn %s=%d", id, v))
	}
	for p, a := range r.Files {
		pv, _ := json.Marshal(a["partitionValues"])
		tags, _ := json.Marshal(a["tags"])
		lines = append(lines, fmt.Sprintf("file %s size=%v pv=%s stats=%v tags=%s", p, a["size"], pv, a["stats"], tags))
	}
	sort.Strings(lines)
	b.WriteString(strings.Join(lines, "\n"))
	return b.String()
}

// SnapshotDigest renders a snapshot's state in the form of Replay.Digest.
func SnapshotDigest(s *lake.Snapshot) string {
	var b strings.Builder
	fmt.Fprintf(&b, "protocol %d/%d\n", s.Protocol.MinReaderVersion, s.Protocol.MinWriterVersion)
	conf, _ := json.Marshal(s.Metadata.Configuration)
	parts, _ := json.Marshal(s.Metadata.PartitionColumns)
	fmt.Fprintf(&b, "metadata id=%s partitions=%s conf=%s description=%q\nschema %s\n", s.Metadata.ID, parts, conf, s.Metadata.Description, s.Metadata.SchemaString)
	var lines []string
	for id, v := range s.Txns() {
		lines = append(lines, fmt.Sprintf("txn %s=%d", id, v))
	}
	for _, a := range s.Files() {
		pv, _ := json.Marshal(a.PartitionValues)
		var tags []byte
		if a.Tags == nil {
			tags = []byte("null")
		} else {
			tags, _ = json.Marshal(a.Tags)
		}
		lines = append(lines, fmt.Sprintf("file %s size=%d pv=%s stats=%s tags=%s", a.DecodedPath(), a.Size, pv, a.Stats, tags))
	}
	sort.Strings(lines)
	b.WriteString(strings.Join(lines, "\n"))
	return b.String()
}
