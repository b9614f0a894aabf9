package views

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/lakectl/lakectl/engine"
	"github.com/lakectl/lakectl/gold"
)

// Dir is the directory of the pipeline that holds the views.
const Dir = "views"

// View is one views/<name>.sql file: a DuckDB SELECT and its header.
type View struct {
	Name        string
	File        string // path as found, for errors
	Description string
	// Time is the DATE or TIMESTAMP column of the result that the view is partitioned
	// and refreshed by; "" for a view refreshed whole.
	Time string
	// Refresh is a fixed refresh interval; 0 when the consumers alone decide.
	Refresh time.Duration
	// Inputs are the tables the SQL names, from DuckDB's parser, sorted.
	Inputs []engine.TableName

	text  string
	query *gold.Select
	lines map[string]int // header key -> line
}

// Root is the view's table in the lake.
func (v *View) Root() string { return Root(v.Name) }

// Root is the lake root of view name.
func Root(name string) string { return "views/" + name }

// Hash identifies the view's text (header and SELECT): a view refreshed from another
// text is refreshed whole.
func (v *View) Hash() string {
	sum := sha256.Sum256([]byte(v.text))
	return hex.EncodeToString(sum[:8])
}

// Line is the line of header key (description, time, refresh); 1 when it is not set.
func (v *View) Line(key string) int {
	if n, ok := v.lines[key]; ok {
		return n
	}
	return 1
}

// Header lines are written as in Gold models: "-- key: value", a value continued on
// lines indented "--    ".
var (
	headerLine   = regexp.MustCompile(`^--\s?([a-z][a-z_]*):\s*(.*)$`)
	continuation = regexp.MustCompile(`^--\s{3,}(\S.*)$`)
	identifier   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	viewName     = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

// parseHeader reads the comment lines before the SELECT.
func parseHeader(v *View) error {
	v.lines = map[string]int{}
	fail := func(line int, format string, args ...any) error {
		return &gold.ModelError{File: v.File, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	var last *string // the value that a continuation line extends
	for i, raw := range strings.Split(v.text, "\n") {
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
		last = nil
		if h == nil {
			continue // a plain comment
		}
		key, value := h[1], strings.TrimSpace(h[2])
		if first, dup := v.lines[key]; dup {
			return fail(n, "%s is set twice (first on line %d)", key, first)
		}
		v.lines[key] = n
		switch key {
		case "description":
			v.Description = value
			last = &v.Description
		case "time":
			if !identifier.MatchString(value) {
				return fail(n, "time: %q is not a column name", value)
			}
			v.Time = value
		case "refresh":
			d, err := time.ParseDuration(value)
			if err != nil || d < time.Second {
				return fail(n, "refresh: %q is not an interval such as 1m or 15m (at least 1s)", value)
			}
			v.Refresh = d
		default:
			return fail(n, "unknown header key %q (a view's header knows description, time and refresh)", key)
		}
	}
	if v.Description == "" {
		return fail(1, "no description: the header needs -- description: <what the view shows>")
	}
	return nil
}

// sqlLine is the first line of the SELECT, below the header.
func (v *View) sqlLine() int {
	for i, l := range strings.Split(v.text, "\n") {
		t := strings.TrimSpace(l)
		if t != "" && !strings.HasPrefix(t, "--") {
			return i + 1
		}
	}
	return 1
}

// body is the checked single SELECT made fit to nest in parentheses.
func (v *View) body() string {
	return strings.TrimSuffix(strings.TrimRight(v.text, " \t\r\n"), ";")
}
