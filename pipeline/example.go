package pipeline

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	example "github.com/lakectl/lakectl/testdata/pipeline"
)

// ErrPipelineExists is returned by WriteExample when dir already holds a pipeline.
var ErrPipelineExists = errors.New("directory already holds " + FileName)

// WriteExample writes the example pipeline (lakectl.yaml, reference/*, models/*.sql and views/*.sql) into dir,
// creating it. It refuses to touch a directory that already has a lakectl.yaml, so
// it never overwrites someone's pipeline. It returns the paths written.
func WriteExample(dir string) ([]string, error) {
	if _, err := os.Stat(filepath.Join(dir, FileName)); err == nil {
		return nil, fmt.Errorf("init %s: %w", dir, ErrPipelineExists)
	}
	var written []string
	err := fs.WalkDir(example.FS, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(name))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		if filepath.Ext(name) == ".go" {
			return nil
		}
		data, err := fs.ReadFile(example.FS, name)
		if err != nil {
			return err
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return err
		}
		written = append(written, dst)
		return nil
	})
	if err != nil {
		return written, fmt.Errorf("init %s: %w", dir, err)
	}
	return written, nil
}
