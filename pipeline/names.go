package pipeline

import (
	"fmt"
	"regexp"
)

// identifier is what table, stream, field and column names must look like: they become
// table paths and SQL identifiers, and lower-case snake case reads the same in every
// engine that opens the tables (DuckDB, Spark and Trino fold or keep case
// differently).
var identifier = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// NameHint says what a good name looks like.
const NameHint = "use lower-case letters, digits and _, starting with a letter (e.g. users_eu)"

// NameError is a name that is not a plain identifier.
type NameError struct {
	Kind string // what was being named, e.g. "reference table"
	Name string
}

func (e *NameError) Error() string { return fmt.Sprintf("bad %s name %q", e.Kind, e.Name) }

// Hint says what a good name looks like.
func (e *NameError) Hint() string { return NameHint }

// CheckName is the one rule for every name that becomes a table path or a SQL
// identifier (streams, Silver and reference tables, fields, columns): lower-case
// letters, digits and _, starting with a letter. It returns a *NameError otherwise;
// kind says what was being named.
func CheckName(kind, name string) error {
	if !identifier.MatchString(name) {
		return &NameError{Kind: kind, Name: name}
	}
	return nil
}
