// Package example holds the example pipeline that `lakectl init` writes: lakectl.yaml,
// its reference data, its Gold models and its views. The files are the fixture that the pipeline,
// silver, gold and CLI tests load, so the example is tested as shipped.
//
//	err := fs.WalkDir(example.FS, ".", ...) // or pipeline.WriteExample(dir)
package example

import "embed"

// FS holds lakectl.yaml, reference/*, models/*.sql and views/*.sql, with paths relative to the
// pipeline directory.
//
//go:embed lakectl.yaml reference models views
var FS embed.FS
