package engine

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Values of pruning: the constants of a query's comparisons and the bounds of a file's
// column (its partition value, its min/max statistics), read in the column's type the
// way DuckDB reads them, and compared in Go. Whatever is not read exactly as DuckDB
// would is not read at all (false), and a comparison without its values prunes
// nothing.

// colClass is how pruning orders a column's values; classNone columns do not prune.
type colClass int

const (
	classNone colClass = iota
	classNumber
	classDate
	classTimestamp
	classString
)

// pruneColumn is a table column as pruning reads it.
type pruneColumn struct {
	name      string
	partition bool
	class     colClass
	// scale is a decimal's; 0 for integers. A string constant with more fractional
	// digits is rounded by DuckDB's cast, so it is not read.
	scale int
}

func newPruneColumn(c viewColumn) pruneColumn {
	pc := pruneColumn{name: c.name, partition: c.partition}
	t := strings.ToUpper(c.duckType.String())
	switch {
	case t == "TINYINT", t == "SMALLINT", t == "INTEGER", t == "BIGINT":
		pc.class = classNumber
	case strings.HasPrefix(t, "DECIMAL("):
		var p, s int
		if _, err := fmt.Sscanf(t, "DECIMAL(%d,%d)", &p, &s); err == nil {
			pc.class, pc.scale = classNumber, s
		}
	case t == "DATE":
		pc.class = classDate
	case t == "TIMESTAMPTZ" || t == "TIMESTAMP WITH TIME ZONE":
		pc.class = classTimestamp
	case t == "VARCHAR":
		pc.class = classString
	}
	return pc
}

// value is one value of a column's class: n for numbers, t for dates and timestamps
// (UTC instants, a date at its midnight, as DuckDB casts a DATE to compare it with a
// timestamp, the session's TimeZone being UTC), s for strings.
type value struct {
	n number
	t time.Time
	s string
}

func compareValues(class colClass, a, b value) int {
	switch class {
	case classNumber:
		return a.n.cmp(b.n)
	case classDate, classTimestamp:
		return a.t.Compare(b.t)
	}
	// DuckDB's default collation compares strings by their bytes, as Go does.
	return strings.Compare(a.s, b.s)
}

// number is an exact number: i, or r when it is not an int64.
type number struct {
	i int64
	r *big.Rat
}

func (a number) rat() *big.Rat {
	if a.r != nil {
		return a.r
	}
	return new(big.Rat).SetInt64(a.i)
}

func (a number) cmp(b number) int {
	if a.r == nil && b.r == nil {
		return cmp.Compare(a.i, b.i)
	}
	return a.rat().Cmp(b.rat())
}

// parseDecimal reads digits with an optional sign and point, with at most maxScale
// fractional digits (any when negative): what every cast of DuckDB reads as that number.
func parseDecimal(s string, maxScale int) (number, bool) {
	digits := strings.TrimPrefix(s, "-")
	whole, frac, point := strings.Cut(digits, ".")
	if whole == "" || !allDigits(whole) || (point && (frac == "" || !allDigits(frac))) ||
		(maxScale >= 0 && len(frac) > maxScale) {
		return number{}, false
	}
	if !point {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return number{i: i}, true
		}
	}
	r, ok := new(big.Rat).SetString(s)
	return number{r: r}, ok
}

// parseStatNumber reads a number of the statistics: JSON's grammar, exponents too.
func parseStatNumber(s string) (number, bool) {
	if n, ok := parseDecimal(s, -1); ok {
		return n, true
	}
	if !numberRe.MatchString(s) {
		return number{}, false
	}
	r, ok := new(big.Rat).SetString(s)
	return number{r: r}, ok
}

var numberRe = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$`)

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseDate reads YYYY-MM-DD, the form every reader writes and reads alike.
func parseDate(s string) (time.Time, bool) {
	if len(s) != 10 {
		return time.Time{}, false
	}
	t, err := time.Parse(time.DateOnly, s)
	return t, err == nil
}

// parseTimestamp reads YYYY-MM-DD, or that and [ T]HH:MM:SS with up to maxFrac
// fractional digits, and, if zone, Z or an offset ±HH or ±HH:MM (no offset is UTC,
// the session's TimeZone). The forms DuckDB reads otherwise (names of zones, days
// past a month's end, more digits than the type keeps, which it truncates) are not
// read.
func parseTimestamp(s string, zone bool, maxFrac int) (time.Time, bool) {
	if len(s) < 10 {
		return time.Time{}, false
	}
	day, ok := parseDate(s[:10])
	if !ok || len(s) == 10 {
		return day, ok
	}
	if s[10] != ' ' && s[10] != 'T' {
		return time.Time{}, false
	}
	rest := s[11:]
	end := strings.IndexAny(rest, "Z+-")
	clock, offset := rest, ""
	if end >= 0 {
		clock, offset = rest[:end], rest[end:]
	}
	hms, frac, point := strings.Cut(clock, ".")
	if len(hms) != 8 || hms[2] != ':' || hms[5] != ':' || (point && (frac == "" || len(frac) > maxFrac || !allDigits(frac))) {
		return time.Time{}, false
	}
	h, m, sec := twoDigits(hms[0:2]), twoDigits(hms[3:5]), twoDigits(hms[6:8])
	if h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 59 {
		return time.Time{}, false
	}
	ns := 0
	if point {
		ns, _ = strconv.Atoi(frac + strings.Repeat("0", 9-len(frac)))
	}
	t := day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec)*time.Second + time.Duration(ns))
	switch {
	case offset == "":
		return t, true
	case !zone:
		return time.Time{}, false
	case offset == "Z":
		return t, true
	}
	sign := time.Duration(1)
	if offset[0] == '-' {
		sign = -1
	}
	oh, om := -1, 0
	switch len(offset) {
	case 3:
		oh = twoDigits(offset[1:3])
	case 6:
		if offset[3] == ':' {
			oh, om = twoDigits(offset[1:3]), twoDigits(offset[4:6])
		}
	}
	if oh < 0 || oh > 23 || om < 0 || om > 59 {
		return time.Time{}, false
	}
	return t.Add(-sign * (time.Duration(oh)*time.Hour + time.Duration(om)*time.Minute)), true
}

// twoDigits is the number of two ASCII digits, -1 for anything else.
func twoDigits(s string) int {
	if len(s) != 2 || !allDigits(s) {
		return -1
	}
	return int(s[0]-'0')*10 + int(s[1]-'0')
}

// literalValue reads a string constant as DuckDB casts it to the column's type.
func literalValue(c pruneColumn, s string) (value, bool) {
	switch c.class {
	case classNumber:
		n, ok := parseDecimal(s, c.scale)
		return value{n: n}, ok
	case classDate:
		t, ok := parseDate(s)
		return value{t: t}, ok
	case classTimestamp:
		t, ok := parseTimestamp(s, true, 6)
		return value{t: t}, ok
	case classString:
		return value{s: s}, true
	}
	return value{}, false
}

// bindConstant is k as a value of column c; false when k does not compare in c's own
// order (a number with a string column: '10' < '9'), or is not read.
func bindConstant(c pruneColumn, k constant) (value, bool) {
	switch {
	case k.kind == "literal":
		return literalValue(c, k.s)
	case k.kind == "number" && c.class == classNumber:
		return value{n: k.n}, true
	case k.kind == "time" && (c.class == classDate || c.class == classTimestamp):
		return value{t: k.t}, true
	case k.kind == "text" && c.class == classString:
		return value{s: k.s}, true
	}
	return value{}, false
}

// bound is what a file says about one column: a null partition holds only NULLs,
// which no comparison passes; otherwise lo and hi bound its values where known.
type bound struct {
	null         bool
	hasLo, hasHi bool
	lo, hi       value
}

// partitionBound is the bound of a partition column: its one value, read as DuckDB
// casts it in the view; unknown when it does not read.
func partitionBound(c pruneColumn, v *string) bound {
	if v == nil || *v == "" {
		return bound{null: true} // the protocol: an empty string is a null partition
	}
	x, ok := literalValue(c, *v)
	return bound{hasLo: ok, hasHi: ok, lo: x, hi: x}
}

// stringStatsLimit is the length at which writers (Spark, delta-rs) truncate string
// statistics; a maximum that long may be below the real one.
const stringStatsLimit = 32

// statsBound is the bound of a column from a file's min and max statistics (JSON).
// Timestamp statistics, which writers may store in milliseconds, are widened by a
// millisecond on each side.
func statsBound(c pruneColumn, min, max json.RawMessage) bound {
	var b bound
	b.lo, b.hasLo = statValue(c, min)
	b.hi, b.hasHi = statValue(c, max)
	switch c.class {
	case classTimestamp:
		b.lo.t = b.lo.t.Add(-time.Millisecond)
		b.hi.t = b.hi.t.Add(time.Millisecond)
	case classString:
		if b.hasHi && utf8.RuneCountInString(b.hi.s) >= stringStatsLimit {
			b.hasHi = false
		}
	}
	return b
}

func statValue(c pruneColumn, raw json.RawMessage) (value, bool) {
	if len(raw) == 0 {
		return value{}, false
	}
	var s string
	isString := raw[0] == '"' && json.Unmarshal(raw, &s) == nil
	switch c.class {
	case classNumber:
		if !isString {
			s = string(raw)
		}
		n, ok := parseStatNumber(s)
		return value{n: n}, ok
	case classDate:
		t, ok := parseDate(s)
		return value{t: t}, ok && isString
	case classTimestamp:
		t, ok := parseTimestamp(s, true, 9)
		return value{t: t}, ok && isString
	case classString:
		return value{s: s}, isString
	}
	return value{}, false
}
