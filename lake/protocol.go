package lake

import (
	"fmt"
	"strings"
)

// What lakectl implements of the Delta protocol: reader version 1 and writer version 2.
//
// Reading: a reader-1 table is read. A reader-2 table is read only when column mapping
// is not actually on (delta.columnMapping.mode absent or "none"), because reader 2
// exists only for column mapping. A reader-3 table lists its features and is refused,
// naming the first feature lakectl lacks (deletionVectors, columnMapping,
// timestampNtz, v2Checkpoint, ...). A schema with timestamp_ntz columns is refused
// whatever the protocol says.
//
// Writing (commits and vacuum): only tables that are readable, of writer version <= 2,
// with no writer features, and without column invariants (delta.invariants), which a
// writer must enforce on the data and lakectl does not.
const (
	ReaderVersion = 1
	WriterVersion = 2
)

// readerFeaturesSupported lists the reader features lakectl handles: none yet, since
// each one changes how data files are read.
var readerFeaturesSupported = map[string]bool{}

// checkRead returns an *UnsupportedError when lakectl cannot read a table of this
// protocol and metadata.
func checkRead(p Protocol, md *Metadata) error {
	switch {
	case p.MinReaderVersion > 3:
		return &UnsupportedError{Feature: fmt.Sprintf("reader version %d", p.MinReaderVersion)}
	case p.MinReaderVersion == 3:
		for _, f := range p.ReaderFeatures {
			if !readerFeaturesSupported[f] {
				return &UnsupportedError{Feature: f}
			}
		}
	}
	if md == nil {
		return nil
	}
	if mode := md.Configuration["delta.columnMapping.mode"]; mode != "" && mode != "none" {
		return &UnsupportedError{Feature: "columnMapping"}
	}
	// Past this point a reader-2 table has column mapping off and reads as reader 1.
	if strings.Contains(md.SchemaString, `"timestamp_ntz"`) {
		return &UnsupportedError{Feature: "timestampNtz"}
	}
	return nil
}

// checkWrite returns an *UnsupportedError when lakectl must not write to a table of
// this protocol and metadata.
func checkWrite(p Protocol, md *Metadata) error {
	if err := checkRead(p, md); err != nil {
		return err
	}
	if p.MinWriterVersion > WriterVersion {
		if len(p.WriterFeatures) > 0 {
			return &UnsupportedError{Feature: p.WriterFeatures[0]}
		}
		return &UnsupportedError{Feature: fmt.Sprintf("writer version %d", p.MinWriterVersion)}
	}
	if p.MinReaderVersion > ReaderVersion {
		return &UnsupportedError{Feature: fmt.Sprintf("reader version %d", p.MinReaderVersion)}
	}
	if md != nil && strings.Contains(md.SchemaString, `"delta.invariants"`) {
		return &UnsupportedError{Feature: "invariants"}
	}
	return nil
}

// appendOnly reports whether the table forbids removing data (delta.appendOnly, a
// writer-2 feature).
func appendOnly(md *Metadata) bool {
	return md != nil && strings.EqualFold(md.Configuration["delta.appendOnly"], "true")
}
