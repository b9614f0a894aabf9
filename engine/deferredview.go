package engine

import (
	"fmt"
	"strings"

	"github.com/lakectl/lakectl/engine/sqlfrag"
	"github.com/lakectl/lakectl/lake"
)

// ExportFilesVariable is the DuckDB variable that a deferred view reads its file list
// from when it is set (DeferredViewSQL). An analyst's session never sets it.
const ExportFilesVariable = "lakectl_export_files"

// DeferredView is a table's view for a database that another DuckDB opens, over files
// that this one cannot open: s3:// URLs, which need DuckDB's httpfs extension, which
// lakectl does not carry. DuckDB binds a view when it creates it, reading its files'
// schemas (and so does a table macro); the view therefore reads its files from
// coalesce(getvariable(ExportFilesVariable), [URLs...]). While creating it, the
// exporter sets the variable to a local Parquet file written from Stub: the columns
// the files hold, with the types ViewSQL takes them to have, and no rows. Where the
// variable is unset, as in any analyst's session, the view reads the URLs, and
// DuckDB binds it again against their files.
type DeferredView struct {
	SQL string // the view's SELECT, as ViewSQL's over urls
	// Stub is a SELECT of the files' columns with no rows; zero for a table without
	// files, whose view reads no file.
	Stub sqlfrag.SQL
}

// DeferredViewSQL is ViewSQL(snap, urls) made deferred (see DeferredView).
func DeferredViewSQL(snap *lake.Snapshot, urls []string) (DeferredView, error) {
	view, err := ViewSQL(snap, urls)
	if err != nil || len(urls) == 0 {
		return DeferredView{SQL: view}, err
	}
	list := sqlfrag.StrList(urls)
	if strings.Count(view, list.String()) != 1 {
		return DeferredView{}, fmt.Errorf("deferred view of v%d: the view does not read its files as one list", snap.Version)
	}
	files := sqlfrag.Fmt("coalesce(getvariable(%s), %s)", sqlfrag.Str(ExportFilesVariable), list)
	tschema, err := snap.Schema()
	if err != nil {
		return DeferredView{}, err
	}
	cols, err := viewColumns(tschema, snap.PartitionColumns())
	if err != nil {
		return DeferredView{}, err
	}
	var inFiles []viewColumn
	for _, c := range cols {
		if !c.partition {
			inFiles = append(inFiles, c)
		}
	}
	return DeferredView{SQL: strings.Replace(view, list.String(), files.String(), 1), Stub: emptySelect(inFiles)}, nil
}
