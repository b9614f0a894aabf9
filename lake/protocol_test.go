package lake

import (
	"errors"
	"testing"
)

func TestProtocolChecks(t *testing.T) {
	plain := &Metadata{SchemaString: `{"type":"struct","fields":[{"name":"a","type":"long","nullable":true,"metadata":{}}]}`}
	withConfig := func(k, v string) *Metadata {
		md := *plain
		md.Configuration = map[string]string{k: v}
		return &md
	}
	ntz := &Metadata{SchemaString: `{"type":"struct","fields":[{"name":"a","type":"timestamp_ntz","nullable":true,"metadata":{}}]}`}
	invariants := &Metadata{SchemaString: `{"type":"struct","fields":[{"name":"a","type":"long","nullable":true,"metadata":{"delta.invariants":"{\"expression\":{\"expression\":\"a > 0\"}}"}}]}`}
	cases := []struct {
		name        string
		p           Protocol
		md          *Metadata
		read, write string // the feature named, "" for allowed
	}{
		{"1/2", Protocol{MinReaderVersion: 1, MinWriterVersion: 2}, plain, "", ""},
		{"1/1", Protocol{MinReaderVersion: 1, MinWriterVersion: 1}, plain, "", ""},
		{"1/3 reads, no write", Protocol{MinReaderVersion: 1, MinWriterVersion: 3}, plain, "", "writer version 3"},
		{"2/5 without column mapping reads", Protocol{MinReaderVersion: 2, MinWriterVersion: 5}, withConfig("delta.columnMapping.mode", "none"), "", "writer version 5"},
		{"2/5 with column mapping", Protocol{MinReaderVersion: 2, MinWriterVersion: 5}, withConfig("delta.columnMapping.mode", "name"), "columnMapping", "columnMapping"},
		{"3/7 deletion vectors", Protocol{MinReaderVersion: 3, MinWriterVersion: 7, ReaderFeatures: []string{"deletionVectors"}, WriterFeatures: []string{"deletionVectors"}}, plain, "deletionVectors", "deletionVectors"},
		{"3/7 timestampNtz", Protocol{MinReaderVersion: 3, MinWriterVersion: 7, ReaderFeatures: []string{"timestampNtz"}}, ntz, "timestampNtz", "timestampNtz"},
		{"timestamp_ntz column", Protocol{MinReaderVersion: 1, MinWriterVersion: 2}, ntz, "timestampNtz", "timestampNtz"},
		{"reader 4", Protocol{MinReaderVersion: 4, MinWriterVersion: 7}, plain, "reader version 4", "reader version 4"},
		{"invariants", Protocol{MinReaderVersion: 1, MinWriterVersion: 2}, invariants, "", "invariants"},
	}
	feature := func(err error) string {
		var u *UnsupportedError
		if errors.As(err, &u) {
			return u.Feature
		}
		if err != nil {
			return "unexpected: " + err.Error()
		}
		return ""
	}
	for _, c := range cases {
		if got := feature(checkRead(c.p, c.md)); got != c.read {
			t.Errorf("%s: read refuses %q, want %q", c.name, got, c.read)
		}
		if got := feature(checkWrite(c.p, c.md)); got != c.write {
			t.Errorf("%s: write refuses %q, want %q", c.name, got, c.write)
		}
	}
}
