package gold

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/lakectl/lakectl/engine"
)

// DefaultLateness is how long after a day's end events of that day may still be
// ingested, unless a model's header says otherwise (-- lateness:).
const DefaultLateness = time.Hour

// Model is one models/<name>.sql file: a DuckDB SELECT and its header.
type Model struct {
	Name        string
	File        string // path as found, for errors
	Description string
	// Partition is the DATE column that the result is partitioned and replaced by.
	Partition string
	// Lateness extends the ingest hours a day waits for (see the package doc).
	Lateness time.Duration
	// Windows is the number of days each input is read for a day: 1 (the day itself)
	// unless the header sets a window.
	Windows map[engine.TableName]int
	Audits  []Audit
	// Inputs are the tables the SQL names, from DuckDB's parser, sorted.
	Inputs []engine.TableName

	text  string // the whole file: header comments and the SELECT
	query *engine.UserSQL
	refs  []tableRef     // the tables the SELECT names, CTEs left out, with their places
	lines map[string]int // header key -> line
}

// Audit is a query over the day's new rows (the table `this`) and the model's inputs
// that must return no rows.
type Audit struct {
	Name string
	Line int
	SQL  string
	sql  *engine.UserSQL
}

// Hash identifies the model's text (header and SELECT): a day built from another
// text is stale.
func (m *Model) Hash() string {
	sum := sha256.Sum256([]byte(m.text))
	return hex.EncodeToString(sum[:8])
}

// Window returns how many days of input n a day reads.
func (m *Model) Window(n engine.TableName) int {
	if w, ok := m.Windows[n]; ok {
		return w
	}
	return 1
}

// Root is the model's table in the lake.
func (m *Model) Root() string { return Root(m.Name) }

// Root is the lake root of Gold model name.
func Root(name string) string { return "gold/" + name }

// ModelError is a model refused, with its file and line.
type ModelError struct {
	File string `json:"file"`
	Line int    `json:"line,omitempty"` // 0 when the problem has no single place
	Msg  string `json:"message"`
}

func (e *ModelError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// headerLine matches "-- key: value" and "-- audit name: SQL".
var (
	headerLine   = regexp.MustCompile(`^--\s?([a-z][a-z_]*)(?:\s+([A-Za-z_][A-Za-z0-9_]*))?:\s*(.*)$`)
	continuation = regexp.MustCompile(`^--\s{3,}(\S.*)$`)
	windowValue  = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)\s+([0-9]+)d$`)
	modelName    = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

// parseHeader reads the comment lines before the SELECT.
func parseHeader(m *Model) error {
	m.Lateness = DefaultLateness
	m.Windows = map[engine.TableName]int{}
	m.lines = map[string]int{}
	fail := func(line int, format string, args ...any) error {
		return &ModelError{File: m.File, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	var last *string // the value that a continuation line extends
	for i, raw := range strings.Split(m.text, "\n") {
		n := i + 1
		line := strings.TrimRight(raw, " \t\r")
		if strings.TrimSpace(line) == "" {
			last = nil
			continue
		}
		if !strings.HasPrefix(line, "--") {
			break // the SQL starts: the header is over
		}
		if c := continuation.FindStringSubmatch(line); c != nil && last != nil {
			*last += " " + c[1]
			continue
		}
		h := headerLine.FindStringSubmatch(line)
		if h == nil {
			last = nil
			continue // a plain comment
		}
		key, name, value := h[1], h[2], strings.TrimSpace(h[3])
		if key != "audit" && name != "" {
			return fail(n, "unknown header key %q (the header knows description, partition, window, lateness and audit NAME)", key+" "+name)
		}
		if _, dup := m.lines[key+" "+name]; dup && key != "window" {
			return fail(n, "%s is set twice (first on line %d)", strings.TrimSpace(key+" "+name), m.lines[key+" "+name])
		}
		m.lines[key+" "+name] = n
		last = nil
		switch key {
		case "description":
			m.Description = value
			last = &m.Description
		case "partition":
			if !regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`).MatchString(value) {
				return fail(n, "partition: %q is not a column name", value)
			}
			m.Partition = value
		case "lateness":
			d, err := time.ParseDuration(value)
			if err != nil || d < 0 {
				return fail(n, "lateness: %q is not a duration such as 2h or 30m", value)
			}
			m.Lateness = d
		case "window":
			w := windowValue.FindStringSubmatch(value)
			if w == nil {
				return fail(n, "window: %q: write the input and the days it reads, e.g. silver.events 7d", value)
			}
			days, err := strconv.Atoi(w[3])
			if err != nil || days < 1 || days > 366 {
				return fail(n, "window: %s days: a window is 1 to 366 days", w[3])
			}
			t := engine.TableName{Schema: strings.ToLower(w[1]), Name: strings.ToLower(w[2])}
			if _, dup := m.Windows[t]; dup {
				return fail(n, "window of %s is set twice", t)
			}
			m.Windows[t] = days
			m.lines["window "+t.String()] = n
		case "audit":
			if name == "" {
				return fail(n, "audit: name it: -- audit non_negative: SELECT ... (a query that returns no rows when all is well)")
			}
			m.Audits = append(m.Audits, Audit{Name: name, Line: n, SQL: value})
			last = &m.Audits[len(m.Audits)-1].SQL
		default:
			return fail(n, "unknown header key %q (the header knows description, partition, window, lateness and audit NAME)", key)
		}
	}
	if m.Partition == "" {
		return fail(1, "no partition column: the header needs -- partition: <a DATE column of the result>")
	}
	for _, a := range m.Audits {
		if strings.TrimSpace(a.SQL) == "" {
			return fail(a.Line, "audit %s has no query", a.Name)
		}
	}
	return nil
}

// lineAt is the 1-based line of byte offset off in text.
func lineAt(text string, off int) int {
	if off < 0 || off > len(text) {
		return 0
	}
	return strings.Count(text[:off], "\n") + 1
}

// sqlLine is the first line of the SELECT, below the header.
func (m *Model) sqlLine() int {
	for i, l := range strings.Split(m.text, "\n") {
		t := strings.TrimSpace(l)
		if t != "" && !strings.HasPrefix(t, "--") {
			return i + 1
		}
	}
	return 1
}
