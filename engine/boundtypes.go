package engine

import (
	"context"
	"fmt"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/lakectl/lakectl/engine/sqlfrag"
)

// viewHasTypes reports whether DuckDB bound the view schema.name to the types of cols:
// a view over files whose types differ from the log's (a column written as INTEGER
// for a long, say) is bound to the files' types, where the view must cast.
func (s *Session) viewHasTypes(ctx context.Context, schema, name string, cols []viewColumn) bool {
	got, err := s.boundTypes(ctx, sqlfrag.Fmt("SELECT * FROM %s", sqlfrag.Qualified(schema, name)).String())
	if err != nil || len(got) != len(cols) {
		return false
	}
	for i, c := range cols {
		// Nested columns are cast to the view's type whatever the files hold.
		if want := c.duckType.String(); !isNested(want) && !sameType(got[i], want) {
			return false
		}
	}
	return true
}

// boundTypes returns the types of the columns that DuckDB binds query to, as DuckType
// writes them, by preparing it, which reads what binding needs (a view's first
// footer) and runs nothing. A DESCRIBE would tell the same for about twice the time,
// in a step that every query over a table pays. Types that DuckType never writes are
// named by their kind alone, which matches none of its.
func (s *Session) boundTypes(ctx context.Context, query string) ([]string, error) {
	var types []string
	err := s.conn.Raw(func(dc any) error {
		conn, ok := dc.(*duckdb.Conn)
		if !ok {
			return fmt.Errorf("driver connection is a %T", dc)
		}
		st, err := conn.PrepareContext(ctx, query)
		if err != nil {
			return err
		}
		defer st.Close()
		prepared, ok := st.(*duckdb.Stmt)
		if !ok {
			return fmt.Errorf("prepared statement is a %T", st)
		}
		n, err := prepared.ColumnCount()
		if err != nil {
			return err
		}
		types = make([]string, n)
		for i := range n {
			ti, err := prepared.ColumnTypeInfo(i)
			if err != nil {
				return err
			}
			types[i] = typeName(ti)
		}
		return nil
	})
	return types, err
}

// typeName is ti as DuckType would write it.
func typeName(ti duckdb.TypeInfo) string {
	if d, ok := ti.Details().(*duckdb.DecimalDetails); ok {
		return sqlfrag.Decimal(int(d.Width), int(d.Scale)).String()
	}
	if n, ok := scalarTypeNames[ti.InternalType()]; ok {
		return n
	}
	return fmt.Sprintf("type %d", ti.InternalType())
}

// scalarTypeNames are the scalar types that DuckType writes.
var scalarTypeNames = map[duckdb.Type]string{
	duckdb.TYPE_BIGINT:       "BIGINT",
	duckdb.TYPE_INTEGER:      "INTEGER",
	duckdb.TYPE_SMALLINT:     "SMALLINT",
	duckdb.TYPE_TINYINT:      "TINYINT",
	duckdb.TYPE_FLOAT:        "FLOAT",
	duckdb.TYPE_DOUBLE:       "DOUBLE",
	duckdb.TYPE_BOOLEAN:      "BOOLEAN",
	duckdb.TYPE_VARCHAR:      "VARCHAR",
	duckdb.TYPE_BLOB:         "BLOB",
	duckdb.TYPE_DATE:         "DATE",
	duckdb.TYPE_TIMESTAMP_TZ: "TIMESTAMPTZ",
}
