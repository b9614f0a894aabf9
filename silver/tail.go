package silver

import (
	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/engine/sqlfrag"
	"github.com/lakectl/lakectl/lake"
)

// The live tail: the rows that Silver will hold once it has processed the Bronze
// hours it has not yet, computed by the same compiled query (Query) as a run, for
// readers that cannot wait for the hour (package views).

// Unprocessed returns the Bronze files (of bsnap) of the ingest hours that Silver
// table (at ssnap; nil before its first commit) has not processed sealed: the open
// hour, the hours waiting for their grace or the job, and hours forced partially.
func Unprocessed(bsnap, ssnap *lake.Snapshot, table string) []lake.Add {
	var out []lake.Add
	for _, a := range bsnap.Files() {
		h, ok := layout.FileHour(&a)
		if !ok {
			continue
		}
		if ssnap != nil {
			if _, done := ssnap.TxnVersion(AppID(table, h)); done {
				continue
			}
		}
		out = append(out, a)
	}
	return out
}

// Tail is the query of the rows of src (a relation with Bronze's columns) that
// Silver would add to stored (a relation with Silver's columns): parsed, checked and
// deduplicated by Query, rejected rows left out as Silver leaves them to the
// quarantine, and rows whose key stored holds already left out. Its columns are
// Silver's (Columns).
func (c *Contract) Tail(src, stored sqlfrag.SQL, refs Refs) sqlfrag.SQL {
	return sqlfrag.Fmt("SELECT %s FROM (%s) AS %s WHERE %s.%s IS NULL AND %s.%s = 1 AND NOT EXISTS (SELECT 1 FROM %s AS %s WHERE %s)",
		c.silverColumns(aliasBatch), c.Query(src, refs), aliasBatch,
		aliasBatch, sqlfrag.Ident(colReason), aliasBatch, sqlfrag.Ident(colRank),
		stored, aliasExisting, c.keyJoin(aliasBatch, aliasExisting))
}
