package gold

import (
	"context"

	"github.com/lakectl/lakectl/engine"
)

// Select is one checked SELECT that a user wrote (a model's, or a view's in package
// views): one statement, no table function that reads files, its tables found by
// DuckDB's parser and agreed by the sandbox (engine.ParseUserSQL).
type Select struct {
	// Inputs are the tables it names, common table expressions left out, sorted.
	Inputs []engine.TableName
	// Tables are the same, each where the text names it (a 1-based line of text).
	Tables []TableAt
	// SQL is the sandbox's checked form, for engine.Session.QueryUser.
	SQL *engine.UserSQL
}

// TableAt is a table that a SELECT names, and the line where it does.
type TableAt struct {
	Name engine.TableName
	Line int
}

// ParseSelect checks text, the whole file (header comments, then one SELECT), with
// sess's DuckDB parser. Every problem is a *ModelError with file and line: a syntax
// error, more than one statement, anything but a query, a table function that reads
// files, no table at all.
func ParseSelect(ctx context.Context, sess *engine.Session, file, text string) (*Select, error) {
	m := &Model{File: file, text: text}
	if err := parseSQL(ctx, sess, m); err != nil {
		return nil, err
	}
	s := &Select{Inputs: m.Inputs, SQL: m.query}
	for _, r := range m.refs {
		s.Tables = append(s.Tables, TableAt{Name: r.name, Line: lineAt(text, r.at)})
	}
	return s, nil
}
