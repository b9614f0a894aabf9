// Package example holds the example pipeline that `lakectl init` writes: lakectl.yaml,
// its reference data and its Gold models. The files are the fixture that the pipeline,
// silver, gold and CLI tests load, so the example is tested as shipped.
//
//	err := fs.WalkDir(example.FS, ".", ...) // or pipeline.WriteExample(dir)
package example

import "embed"

// FS holds lakectl.yaml, reference/* and models/*.sql, with paths relative to the
// pipeline directory.
//
//go:embed lakectl.yaml reference models
var FS embed.FS
