// Package example holds the example pipeline that `lakectl init` writes: lakectl.yaml
// and its reference data. The files are the fixture that the pipeline, silver and CLI
// tests load, so the example is tested as shipped.
//
//	err := fs.WalkDir(example.FS, ".", ...) // or pipeline.WriteExample(dir)
package example

import "embed"

// FS holds lakectl.yaml and reference/*, with paths relative to the pipeline directory.
//
//go:embed lakectl.yaml reference
var FS embed.FS
