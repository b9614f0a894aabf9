package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/spf13/cobra"

	"github.com/lakectl/lakectl/bronze/layout"
	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/silver"
)

func newQueryCmd() *cobra.Command {
	var (
		pf     pipelineFlags
		format string
		asOf   string
	)
	cmd := &cobra.Command{
		Use:   `query ["SQL"]`,
		Short: "Run SQL over every table of the lake in DuckDB",
		Long: `Run SQL in DuckDB with every table of the pipeline registered as a view over its
current snapshot (or --as-of a version or time): bronze.<stream>, silver.<table>,
quarantine.<table>, ref.<name>, gold.<model> (models/*.sql) and views.<name>
(views/*.sql). The SQL is the argument, or else read from stdin when stdin is not a
terminal; on a terminal, without SQL, an interactive prompt: end statements with ;,
.tables lists the tables, .quit (or Ctrl-D) leaves.

--format table aligns columns for reading; csv has a header line; json prints one
object per row and line, with decimals as exact JSON numbers and times in RFC 3339.`,
		Example: `  lakectl query "SELECT count(*), count(DISTINCT event_id) FROM silver.events"
  lakectl query "SELECT reason, count(*) FROM quarantine.events GROUP BY ALL" --format csv
  lakectl query "SELECT count(*) FROM silver.events" --as-of 2026-11-21T08:00:00Z
  lakectl query --format json < report.sql`,
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
			env, err := pf.open(ctx, true)
			if err != nil {
				return err
			}
			sess, err := env.session(ctx)
			if err != nil {
				return err
			}
			defer sess.Close()
			tables, err := registerLake(ctx, sess, env, at, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if len(args) == 0 && isTerminal(os.Stdin) {
				return prompt(ctx, sess, tables, format, os.Stdin, cmd.OutOrStdout(), cmd.ErrOrStderr())
			}
			query, err := querySQL(args, cmd.InOrStdin())
			if err != nil {
				return err
			}
			return withCatalogHint(runQuery(ctx, sess, query, format, cmd.OutOrStdout()), tables)
		},
	}
	pf.register(cmd)
	cmd.Flags().StringVar(&format, "format", "table", "output: table, csv or json (one object per line)")
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
	return snapshotSelector{asOf: &t}, nil
}

// registerLake registers every table the pipeline knows of that exists in the lake,
// and returns their names. With --as-of, a table that has no such version (it was
// created later, or has fewer versions) is left out with a note on warn: a query of
// the other tables still runs.
func registerLake(ctx context.Context, sess *engine.Session, env *pipelineEnv, at snapshotSelector, warn io.Writer) ([]string, error) {
	type entry struct{ schema, name, root string }
	var entries []entry
	for _, s := range env.p.Streams {
		entries = append(entries, entry{"bronze", s.Name, layout.TableRoot(s.Name)})
	}
	for _, t := range env.p.Silver {
		entries = append(entries, entry{"silver", t.Name, silver.Root(t.Name)}, entry{"quarantine", t.Name, silver.QuarantineRoot(t.Name)})
	}
	for _, r := range env.p.Reference {
		entries = append(entries, entry{"ref", r.Name, silver.RefRoot(r.Name)})
	}
	for _, layer := range []struct{ schema, dir string }{{"gold", "models"}, {"views", "views"}} {
		files, _ := filepath.Glob(filepath.Join(env.p.Dir, layer.dir, "*.sql"))
		for _, f := range files {
			name := strings.TrimSuffix(filepath.Base(f), ".sql")
			entries = append(entries, entry{layer.schema, name, layer.schema + "/" + name})
		}
	}
	var names []string
	for _, e := range entries {
		t := lake.NewTable(env.store, e.root)
		var snap *lake.Snapshot
		var err error
		switch {
		case at.version != nil:
			snap, err = t.At(ctx, *at.version)
		case at.asOf != nil:
			snap, err = t.AsOf(ctx, *at.asOf)
		default:
			snap, err = t.Latest(ctx)
		}
		if errors.Is(err, lake.ErrNoTable) {
			continue
		}
		// A time in the future is the user's mistake for every table: say so once.
		if errors.Is(err, lake.ErrVersionNotFound) && (at.asOf == nil || !at.asOf.After(time.Now())) {
			fmt.Fprintf(warn, "note: %s.%s left out: %v\n", e.schema, e.name, err)
			continue
		}
		if errors.Is(err, lake.ErrVersionNotFound) {
			return nil, hinted(err, "give --as-of a time at or before now, or a version that the tables have")
		}
		if err != nil {
			return nil, withTableHint(err)
		}
		if err := sess.RegisterTable(ctx, e.schema, e.name, snap, engine.TableFiles(t, env.cache)); err != nil {
			return nil, err
		}
		names = append(names, fmt.Sprintf("%s.%s (v%d)", e.schema, e.name, snap.Version))
	}
	return names, nil
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

// withCatalogHint lists the registered tables under an error about a table DuckDB
// does not know: the usual cause is a name that is not in the pipeline, or a table
// that nothing has written yet.
func withCatalogHint(err error, tables []string) error {
	if err == nil || !strings.Contains(err.Error(), "Catalog Error") {
		return err
	}
	if len(tables) == 0 {
		return hinted(err, "no table of the pipeline has been written yet")
	}
	return hinted(err, "the tables are "+strings.Join(tables, ", "))
}

// runQuery runs user SQL as written and prints its result.
func runQuery(ctx context.Context, sess *engine.Session, query, format string, w io.Writer) error {
	rows, err := sess.QueryContext(ctx, query)
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	p := newPrinter(format, w, cols)
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

// printer writes rows in one of the output formats.
type printer struct {
	format string
	cols   []string
	tw     *tabwriter.Writer
	cw     *csv.Writer
	w      io.Writer
}

func newPrinter(format string, w io.Writer, cols []string) *printer {
	p := &printer{format: format, cols: cols, w: w}
	switch format {
	case "csv":
		p.cw = csv.NewWriter(w)
		p.cw.Write(cols)
	case "table":
		p.tw = newTabWriter(w)
		fmt.Fprintln(p.tw, strings.Join(cols, "\t"))
	}
	return p
}

func (p *printer) row(vals []any) error {
	switch p.format {
	case "csv":
		rec := make([]string, len(vals))
		for i, v := range vals {
			if v != nil {
				rec[i] = text(v)
			}
		}
		return p.cw.Write(rec)
	case "json":
		var b strings.Builder
		b.WriteByte('{')
		for i, v := range vals {
			if i > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(p.cols[i])
			b.Write(k)
			b.WriteByte(':')
			b.Write(jsonValue(v))
		}
		b.WriteString("}\n")
		_, err := io.WriteString(p.w, b.String())
		return err
	default:
		cells := make([]string, len(vals))
		for i, v := range vals {
			cells[i] = "NULL"
			if v != nil {
				cells[i] = strings.NewReplacer("\t", " ", "\n", " ").Replace(text(v))
			}
		}
		_, err := fmt.Fprintln(p.tw, strings.Join(cells, "\t"))
		return err
	}
}

func (p *printer) flush() error {
	switch {
	case p.cw != nil:
		p.cw.Flush()
		return p.cw.Error()
	case p.tw != nil:
		return p.tw.Flush()
	}
	return nil
}

func text(v any) string {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case []byte:
		return string(x)
	default:
		return fmt.Sprint(x)
	}
}

func jsonValue(v any) []byte {
	switch x := v.(type) {
	case duckdb.Decimal:
		// Exact digits, as a JSON number.
		return []byte(x.String())
	case nil:
		return []byte("null")
	case []byte:
		b, _ := json.Marshal(string(x))
		return b
	case time.Time:
		b, _ := json.Marshal(x.UTC().Format(time.RFC3339Nano))
		return b
	}
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(fmt.Sprint(v))
	}
	return b
}

// prompt reads statements ending in ; from in and runs them, until EOF or .quit.
func prompt(ctx context.Context, sess *engine.Session, tables []string, format string, in io.Reader, out, errw io.Writer) error {
	fmt.Fprintf(errw, "%d tables; .tables lists them, .quit leaves\n", len(tables))
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
			fmt.Fprintln(out, strings.Join(tables, "\n"))
			continue
		}
		stmt.WriteString(line)
		stmt.WriteByte('\n')
		if !strings.HasSuffix(line, ";") {
			continue
		}
		if err := runQuery(ctx, sess, stmt.String(), format, out); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			fmt.Fprintln(errw, "error:", err)
		}
		stmt.Reset()
	}
}
