package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/lakectl/lakectl/engine"
)

func newQueryCmd() *cobra.Command {
	var (
		pf              pipelineFlags
		format          string
		asOf            string
		allowLocalFiles bool
		external        []string
		explain         bool
	)
	cmd := &cobra.Command{
		Use:   `query ["SQL"]`,
		Short: "Run read-only SQL over the tables of the lake in DuckDB",
		Long: `Run SQL in DuckDB over the tables of the pipeline, each a view over its current
snapshot (or --as-of a version or time): bronze.<stream>, silver.<table>,
quarantine.<table>, ref.<name>, gold.<model> (models/*.sql) and views.<name>
(views/*.sql). Without a lakectl.yaml, --lake DIR|URL alone reads the tables under the
lake's layers by the same names. --table NAME=URL adds any Delta table, queried as
NAME. A statement reads only the tables it names, so a broken table fails only the
queries that use it. The SQL is the argument, or else read from stdin when
stdin is not a terminal; on a terminal, without SQL, an interactive prompt: end
statements with ;, .tables lists the tables, .quit (or Ctrl-D) leaves.

The SQL runs in a sandbox: only queries (SELECT, FROM, WITH, VALUES, DESCRIBE, SHOW,
SUMMARIZE), which read only the tables they name and write nothing. COPY, ATTACH,
INSTALL, LOAD, SET, PRAGMA, CREATE, INSERT and EXPORT are refused, and so is any
read of a local file (read_csv, read_text, glob, ...) unless --allow-local-files.

Of each table, only the files that the WHERE comparisons of its scans can need (=, <,
<=, >, >=, IN, BETWEEN on a column against constants, joined by AND) are fetched, by
their partition values and min/max statistics in the Delta log; --explain says per
table what was read, pruned and downloaded.

Values print as DuckDB prints them (a DATE as 2026-11-27, a TIMESTAMPTZ in UTC as
2026-11-27 08:00:00+00, a DECIMAL(18,2) with both digits). --format table aligns
columns for reading; csv is what DuckDB's CSV writer writes (a header line, NULL an
empty field, the empty string ""); json prints one object per row and line, as
DuckDB's JSON writer does (decimals exact JSON numbers, dates and times strings).`,
		Example: `  lakectl query "SELECT count(*), count(DISTINCT event_id) FROM silver.events"
  lakectl query "SELECT reason, count(*) FROM quarantine.events GROUP BY ALL" --format csv
  lakectl query "SELECT count(*) FROM silver.events" --as-of 2026-11-21T08:00:00Z
  lakectl query --format json < report.sql
  lakectl query --lake s3://lake/prod "SELECT count(*) FROM silver.events"
  lakectl query --table trips=s3://other/trips "SELECT count(*) FROM trips" --as-of 2026-11-01`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if format != "table" && format != "csv" && format != "json" {
				return usageErrorf("use --format table, csv or json", "unknown format %q", format)
			}
			at, err := parseQueryAsOf(asOf)
			if err != nil {
				return err
			}
			env, err := pf.openQuery(ctx, len(external) > 0)
			if err != nil {
				return err
			}
			tables := newLakeTables(env, at)
			if err := addExternalTables(ctx, tables, external); err != nil {
				return err
			}
			q := &querier{tables: tables, opts: engine.SealOptions{AllowLocalFiles: allowLocalFiles}}
			if explain {
				q.explain = cmd.ErrOrStderr()
			}
			defer q.Close()
			if len(args) == 0 && isTerminal(os.Stdin) {
				return prompt(ctx, q, format, os.Stdin, cmd.OutOrStdout(), cmd.ErrOrStderr())
			}
			query, err := querySQL(args, cmd.InOrStdin())
			if err != nil {
				return err
			}
			return q.run(ctx, query, format, cmd.OutOrStdout())
		},
	}
	pf.register(cmd)
	cmd.Flags().StringVar(&format, "format", "table", "output: table, csv or json (one object per line)")
	cmd.Flags().BoolVar(&allowLocalFiles, "allow-local-files", false, "let the SQL also read local files that lakectl can read (read_csv('my.csv')); it still writes nothing")
	cmd.Flags().BoolVar(&explain, "explain", false, "say on stderr, per table, how many files and bytes the query reads, how many were pruned, and how many were downloaded")
	cmd.Flags().StringArrayVar(&external, "table", nil, "NAME=URL: also query the Delta table at URL (a path, file:// or s3://) as NAME; repeatable")
	cmd.Flags().StringVar(&asOf, "as-of", "", "read every table as of a version (a number) or a time (RFC 3339, or a date meaning its midnight UTC) (default: the latest)")
	return cmd
}

// parseQueryAsOf reads --as-of: a version number, or a time as `table show` takes it.
func parseQueryAsOf(s string) (snapshotSelector, error) {
	if s == "" {
		return snapshotSelector{}, nil
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return snapshotSelector{version: &v}, nil
	}
	t, err := parseAsOf(s)
	if err != nil {
		return snapshotSelector{}, usageErrorf("give a table version (42) or a time (2026-11-21T08:00:00Z)", "bad --as-of %q", s)
	}
	// The user's mistake for every table, whichever ones the SQL names: say so up front.
	if t.After(time.Now()) {
		return snapshotSelector{}, usageErrorf("give --as-of a time at or before now, or a version that the tables have",
			"--as-of %s is in the future", t.UTC().Format(time.RFC3339))
	}
	return snapshotSelector{asOf: &t}, nil
}

// querySQL is the SQL to run: the argument, or all of stdin.
func querySQL(args []string, stdin io.Reader) (string, error) {
	if len(args) == 1 {
		return args[0], nil
	}
	b, err := io.ReadAll(stdin)
	if err != nil {
		return "", fmt.Errorf("read SQL from stdin: %w", err)
	}
	if strings.TrimSpace(string(b)) == "" {
		return "", usageErrorf(`give the SQL as an argument, lakectl query "SELECT ...", or on stdin`, "no SQL given")
	}
	return string(b), nil
}

// printRows prints a query's result and closes rows.
func printRows(rows *sql.Rows, format string, w io.Writer) error {
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	types, err := rows.ColumnTypes()
	if err != nil {
		return err
	}
	p := newPrinter(format, w, cols, types)
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("query: %w", err)
		}
		if err := p.row(vals); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("query: %w", err)
	}
	return p.flush()
}

// printer writes rows in one of the output formats, each value as DuckDB prints it
// (query_format.go).
type printer struct {
	format string
	cols   []string
	types  []colType
	tw     *tabwriter.Writer
	w      *bufio.Writer
}

func newPrinter(format string, w io.Writer, cols []string, types []*sql.ColumnType) *printer {
	p := &printer{format: format, cols: cols, w: bufio.NewWriter(w)}
	for _, t := range types {
		p.types = append(p.types, parseColType(t.DatabaseTypeName()))
	}
	switch format {
	case "csv":
		p.csvLine(cols, nil)
	case "table":
		p.tw = newTabWriter(p.w)
		fmt.Fprintln(p.tw, strings.Join(cols, "\t"))
	}
	return p
}

// csvLine writes one csv record; null marks the fields that are NULL (nil: none).
func (p *printer) csvLine(fields []string, null []bool) error {
	for i, f := range fields {
		if i > 0 {
			p.w.WriteByte(',')
		}
		p.w.WriteString(csvField(f, null != nil && null[i]))
	}
	return p.w.WriteByte('\n')
}

func (p *printer) row(vals []any) error {
	switch p.format {
	case "csv":
		rec := make([]string, len(vals))
		null := make([]bool, len(vals))
		for i, v := range vals {
			if null[i] = v == nil; !null[i] {
				rec[i] = duckText(p.types[i], v)
			}
		}
		return p.csvLine(rec, null)
	case "json":
		p.w.WriteByte('{')
		for i, v := range vals {
			if i > 0 {
				p.w.WriteByte(',')
			}
			p.w.Write(jsonString(p.cols[i]))
			p.w.WriteByte(':')
			p.w.Write(duckJSON(p.types[i], v))
		}
		_, err := p.w.WriteString("}\n")
		return err
	default:
		cells := make([]string, len(vals))
		for i, v := range vals {
			cells[i] = "NULL"
			if v != nil {
				cells[i] = strings.NewReplacer("\t", " ", "\n", " ").Replace(duckText(p.types[i], v))
			}
		}
		_, err := fmt.Fprintln(p.tw, strings.Join(cells, "\t"))
		return err
	}
}

func (p *printer) flush() error {
	if p.tw != nil {
		if err := p.tw.Flush(); err != nil {
			return err
		}
	}
	return p.w.Flush()
}

// prompt reads statements ending in ; from in and runs them, until EOF or .quit.
func prompt(ctx context.Context, q *querier, format string, in io.Reader, out, errw io.Writer) error {
	fmt.Fprintln(errw, ".tables lists the tables, .quit leaves")
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var stmt strings.Builder
	for {
		if stmt.Len() == 0 {
			fmt.Fprint(errw, "lakectl> ")
		} else {
			fmt.Fprint(errw, "     ...> ")
		}
		if !sc.Scan() {
			fmt.Fprintln(errw)
			return sc.Err()
		}
		line := strings.TrimSpace(sc.Text())
		switch {
		case stmt.Len() == 0 && (line == ".quit" || line == ".exit"):
			return nil
		case stmt.Len() == 0 && line == ".tables":
			fmt.Fprintln(out, strings.Join(q.tables.list(ctx), "\n"))
			continue
		}
		stmt.WriteString(line)
		stmt.WriteByte('\n')
		if !strings.HasSuffix(line, ";") {
			continue
		}
		if err := q.run(ctx, stmt.String(), format, out); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			fmt.Fprintln(errw, "error:", err)
		}
		stmt.Reset()
	}
}
