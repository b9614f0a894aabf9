package serve

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/engine/sqlfrag"
	"github.com/lakectl/lakectl/lake"
)

// The formats a table is served in, and their media types.
const (
	formatJSON    = "json"
	formatCSV     = "csv"
	formatParquet = "parquet"
)

var mediaTypes = map[string]string{
	formatJSON:    "application/json",
	formatCSV:     "text/csv; charset=utf-8",
	formatParquet: "application/vnd.apache.parquet",
}

// negotiate picks the format: ?format= first, then the first Accept type served,
// JSON by default. "" when ?format= names none.
func negotiate(r *http.Request) string {
	if f := r.URL.Query().Get("format"); f != "" {
		if _, ok := mediaTypes[f]; ok {
			return f
		}
		return ""
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "application/json":
			return formatJSON
		case "text/csv":
			return formatCSV
		case "application/vnd.apache.parquet", "application/parquet", "application/x-parquet":
			return formatParquet
		}
	}
	return formatJSON
}

// tableQuery is what a request asks of a table: a time range on its time column
// (From inclusive, To exclusive) and a row limit.
type tableQuery struct {
	From, To time.Time
	Limit    int64
}

// DefaultLimit and MaxLimit bound the rows of a response.
const (
	DefaultLimit = 10_000
	MaxLimit     = 1_000_000
)

// parseTableQuery reads ?from=, ?to= (RFC 3339, a date, or Unix milliseconds, which
// Grafana sends) and ?limit=.
func parseTableQuery(r *http.Request, timeCol string) (tableQuery, error) {
	q := tableQuery{Limit: DefaultLimit}
	v := r.URL.Query()
	for _, b := range []struct {
		key string
		dst *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		s := v.Get(b.key)
		if s == "" {
			continue
		}
		if timeCol == "" {
			return q, fmt.Errorf("?%s: the table has no time column", b.key)
		}
		t, err := parseTime(s)
		if err != nil {
			return q, fmt.Errorf("?%s=%s: want RFC 3339, a date (2026-11-21) or Unix milliseconds", b.key, s)
		}
		*b.dst = t
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 || n > MaxLimit {
			return q, fmt.Errorf("?limit=%s: want a whole number from 0 to %d", s, MaxLimit)
		}
		q.Limit = n
	}
	return q, nil
}

func parseTime(s string) (time.Time, error) {
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Parse(time.DateOnly, s)
}

// sql is the query of q over table n, whose time column is timeCol ("" for none), of
// the columns cols: only the values parsed here reach it, as literals.
func (q tableQuery) sql(n engine.TableName, timeCol string, cols sqlfrag.SQL) string {
	var where []sqlfrag.SQL
	ts := func(t time.Time) sqlfrag.SQL {
		return sqlfrag.Fmt("CAST(%s AS TIMESTAMPTZ)", sqlfrag.Str(t.UTC().Format(time.RFC3339Nano)))
	}
	col := sqlfrag.Fmt("CAST(%s AS TIMESTAMPTZ)", sqlfrag.Ident(timeCol))
	if !q.From.IsZero() {
		where = append(where, sqlfrag.Fmt("%s >= %s", col, ts(q.From)))
	}
	if !q.To.IsZero() {
		where = append(where, sqlfrag.Fmt("%s < %s", col, ts(q.To)))
	}
	s := sqlfrag.Fmt("SELECT %s FROM %s", cols, sqlfrag.Qualified(n.Schema, n.Name))
	if len(where) > 0 {
		s = sqlfrag.Fmt("%s WHERE %s", s, sqlfrag.Join(where, " AND "))
	}
	if timeCol != "" {
		s = sqlfrag.Fmt("%s ORDER BY %s", s, sqlfrag.Ident(timeCol))
	}
	return sqlfrag.Fmt("%s LIMIT %s", s, sqlfrag.Int(q.Limit)).String()
}

// queryTable writes the rows of snap (table n) that q asks for to w in format, from
// a sealed session that holds this table alone.
func (h *Handler) queryTable(ctx context.Context, w io.Writer, n engine.TableName, tb *lake.Table, snap *lake.Snapshot, timeCol string, q tableQuery, format string) error {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.QueryTimeout)
	defer cancel()
	sess, err := engine.Open(ctx, h.cfg.Engine)
	if err != nil {
		return err
	}
	defer sess.Close()
	if err := sess.RegisterTable(ctx, n.Schema, n.Name, snap, engine.TableFiles(tb, h.cfg.Cache)); err != nil {
		return err
	}
	if err := sess.Seal(ctx, engine.SealOptions{}); err != nil {
		return err
	}
	cols := sqlfrag.Const("*")
	if format != formatParquet {
		if cols, err = textColumns(snap); err != nil {
			return err
		}
	}
	text := q.sql(n, timeCol, cols)
	switch format {
	case formatParquet:
		uq, err := sess.ParseUserSQL(ctx, text)
		if err != nil {
			return err
		}
		return sess.ExportParquet(ctx, uq, w)
	case formatCSV:
		// DuckDB writes each value as its text, as lakectl query's CSV does.
		text = "SELECT COLUMNS(*)::VARCHAR FROM (" + text + ")"
	default:
		// DuckDB writes each row as a JSON object: numbers as numbers, times as text.
		text = "SELECT to_json(r)::VARCHAR FROM (" + text + ") r"
	}
	uq, err := sess.ParseUserSQL(ctx, text)
	if err != nil {
		return err
	}
	rows, err := sess.QueryUser(ctx, uq)
	if err != nil {
		return err
	}
	defer rows.Close()
	if format == formatCSV {
		err = writeCSV(w, rows)
	} else {
		err = writeJSON(w, rows)
	}
	if err != nil {
		return err
	}
	return rows.Err()
}

func writeJSON(w io.Writer, rows *sql.Rows) error {
	io.WriteString(w, "[")
	first := true
	for rows.Next() {
		var obj string
		if err := rows.Scan(&obj); err != nil {
			return err
		}
		if !first {
			io.WriteString(w, ",\n")
		}
		first = false
		io.WriteString(w, obj)
	}
	_, err := io.WriteString(w, "]\n")
	return err
}

func writeCSV(w io.Writer, rows *sql.Rows) error {
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.Write(cols)
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	rec := make([]string, len(cols))
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		for i, v := range vals {
			rec[i] = v.String // NULL is empty
		}
		cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

// textColumns selects the columns of snap's schema for a text format, times written
// as ISO 8601 with milliseconds (2026-11-21T08:00:00.000Z), which JavaScript's Date
// and Grafana read; DuckDB's own text ("2026-11-21 08:00:00+00") they may not.
func textColumns(snap *lake.Snapshot) (sqlfrag.SQL, error) {
	schema, err := lake.ParseSchema(snap.Metadata.SchemaString)
	if err != nil {
		return sqlfrag.SQL{}, err
	}
	var cols []sqlfrag.SQL
	for _, f := range schema.Fields {
		c := sqlfrag.Ident(f.Name)
		switch f.Type {
		case "timestamp":
			c = sqlfrag.Fmt("strftime(%s, '%%Y-%%m-%%dT%%H:%%M:%%S.%%gZ') AS %s", c, c)
		case "timestamp_ntz":
			c = sqlfrag.Fmt("strftime(%s, '%%Y-%%m-%%dT%%H:%%M:%%S.%%g') AS %s", c, c)
		}
		cols = append(cols, c)
	}
	if len(cols) == 0 {
		return sqlfrag.Const("*"), nil
	}
	return sqlfrag.List(cols...), nil
}
