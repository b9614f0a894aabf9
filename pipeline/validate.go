package pipeline

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/lakectl/lakectl/lake/storeurl"
)

// Types are the field types a contract may declare, and the DuckDB type each becomes.
// decimal(P,S) is accepted too (P ≤ 38).
var Types = map[string]string{
	"string":    "VARCHAR",
	"int":       "BIGINT",
	"double":    "DOUBLE",
	"boolean":   "BOOLEAN",
	"timestamp": "TIMESTAMPTZ",
	"date":      "DATE",
}

var decimalType = regexp.MustCompile(`^decimal\((\d{1,2}),\s*(\d{1,2})\)$`)

// DuckDBType returns the DuckDB type of a contract type, false if it is not one.
func DuckDBType(t string) (string, bool) {
	if d, ok := Types[t]; ok {
		return d, true
	}
	if p, s, ok := DecimalParams(t); ok {
		return fmt.Sprintf("DECIMAL(%d,%d)", p, s), true
	}
	return "", false
}

// DecimalParams reads precision and scale from a contract type decimal(P,S); ok is
// false for any other type and for P and S out of range.
func DecimalParams(t string) (precision, scale int, ok bool) {
	m := decimalType.FindStringSubmatch(t)
	if m == nil {
		return 0, 0, false
	}
	precision, _ = strconv.Atoi(m[1])
	scale, _ = strconv.Atoi(m[2])
	return precision, scale, precision >= 1 && precision <= 38 && scale <= precision
}

// IsNumeric says whether min and max apply to the type.
func IsNumeric(t string) bool {
	return t == "int" || t == "double" || strings.HasPrefix(t, "decimal(")
}

// Reserved column names that every Silver table carries besides its fields.
var Reserved = []string{"event_date", "event_hour"}

func reflectValue(p *Pipeline) reflect.Value { return reflect.ValueOf(p).Elem() }

// checkStore refuses a store URL of lakectl.yaml that would not open as written (see
// storeurl.Check): at load, naming the line, rather than as a directory named "s3:"
// when a command first writes.
func (p *Pipeline) checkStore() error {
	if p.Store.URL == "" {
		return nil // the default, ./lake
	}
	key := "store.url"
	if p.lines[key] == 0 {
		key = "store" // the short form, store: URL
	}
	if err := storeurl.Check(p.Store.URL); err != nil {
		return p.errorf(key, "", "%v", err)
	}
	return nil
}

func (p *Pipeline) validate() error {
	if err := p.validateNames(); err != nil {
		return err
	}
	for topic, stream := range p.Kafka.Topics {
		if p.Stream(stream) == nil {
			return p.errorf("kafka.topics."+topic, "declare it under streams:, or fix the name",
				"topic %q goes to unknown stream %q (streams: %s)", topic, stream, p.names("streams"))
		}
	}
	for i := range p.Silver {
		if err := p.validateTable(&p.Silver[i]); err != nil {
			return err
		}
	}
	for _, c := range p.Consumers {
		if err := p.validateConsumer(c); err != nil {
			return err
		}
	}
	if _, err := ParseBytes(p.Store.CacheSize); err != nil {
		return p.errorf("store.cache_size", "", "%v", err)
	}
	if n := p.Serve.PG.IdleSessions; n != nil && *n < 0 {
		return p.errorf("serve.pg.idle_sessions", "0 keeps none", "idle_sessions %d is negative", *n)
	}
	return nil
}

// validateConsumer checks a consumer's reads and levels. That the tables exist, and
// that a path can meet the SLO, the views package checks (lakectl plan).
func (p *Pipeline) validateConsumer(c Consumer) error {
	at := "consumers." + c.Name
	if len(c.Reads) == 0 {
		return p.errorf(at, "", "consumer reads nothing: add reads: [views.NAME ...] or [gold.NAME ...]")
	}
	for _, r := range c.Reads {
		layer, name, ok := strings.Cut(r, ".")
		if !ok || (layer != "views" && layer != "gold") || CheckName("view", name) != nil {
			return p.errorf(at+".reads", "write views.NAME for views/NAME.sql, gold.NAME for models/NAME.sql",
				"consumer reads %q: not views.NAME or gold.NAME", r)
		}
	}
	switch {
	case c.Freshness <= 0:
		return p.errorf(at, "", "missing freshness: (the end-to-end freshness the consumer needs, e.g. 2m or 26h)")
	case c.Warn > c.Breach:
		return p.errorf(at+".warn", "", "warn %s is above breach %s", c.Warn, c.Breach)
	}
	return nil
}

func (p *Pipeline) validateNames() error {
	check := func(section, kind, name string) error {
		if CheckName(kind, name) != nil {
			return p.errorf(section+"."+name, NameHint, "bad name %q", name)
		}
		return nil
	}
	for _, s := range p.Streams {
		if err := check("streams", "stream", s.Name); err != nil {
			return err
		}
	}
	for _, t := range p.Silver {
		if err := check("silver", "silver table", t.Name); err != nil {
			return err
		}
	}
	for _, r := range p.Reference {
		if err := check("reference", "reference table", r.Name); err != nil {
			return err
		}
		if r.File == "" {
			return p.errorf("reference."+r.Name, "", "missing file: (a CSV or Parquet file)")
		}
		for _, c := range []struct{ key, col string }{{"key", r.Key}, {"valid_from", r.ValidFrom}, {"valid_to", r.ValidTo}} {
			if c.col != "" && CheckName("column", c.col) != nil {
				return p.errorf("reference."+r.Name+"."+c.key, "", "bad column name %q", c.col)
			}
		}
		if (r.ValidFrom == "") != (r.ValidTo == "") {
			return p.errorf("reference."+r.Name, "name both validity columns, or neither for a snapshot",
				"valid_from: and valid_to: go together")
		}
		if r.ValidFrom != "" && r.Key == "" {
			return p.errorf("reference."+r.Name, "add key: (the column that identifies a row)",
				"a reference with validity columns needs a key, to check that the validity of each key does not overlap")
		}
	}
	return nil
}

func (p *Pipeline) validateTable(t *Table) error {
	at := "silver." + t.Name
	if t.Source == "" {
		return p.errorf(at, "", "missing source: (the stream whose events this table cleans)")
	}
	if p.Stream(t.Source) == nil {
		return p.errorf(at+".source", "declare it under streams:, or fix the name",
			"unknown stream %q (streams: %s)", t.Source, p.names("streams"))
	}
	if len(t.Fields) == 0 {
		return p.errorf(at, "", "missing fields:")
	}
	columns := map[string]bool{}
	jsonKeys := map[string]string{} // JSON key -> the field that reads it
	for _, f := range t.Fields {
		fat := at + ".fields." + f.Name
		if err := p.validateField(fat, f); err != nil {
			return err
		}
		// json_transform takes one struct member per JSON key.
		if other, ok := jsonKeys[f.JSONKey()]; ok {
			return p.errorf(fat+".from", "read it once and derive the other column in Gold",
				"JSON key %q is already read by field %s", f.JSONKey(), other)
		}
		jsonKeys[f.JSONKey()] = f.Name
		columns[f.Name] = true
	}
	if len(t.Key) == 0 {
		return p.errorf(at, "", "missing key: (the fields that identify an event)")
	}
	for i, k := range t.Key {
		if slices.Contains(t.Key[:i], k) {
			return p.errorf(at+".key", "", "key field %q given twice", k)
		}
		if f := t.Field(k); f == nil {
			return p.errorf(at+".key", "", "key field %q is not a declared field", k)
		} else if !f.Required {
			return p.errorf(at+".key", "mark it required: true", "key field %q must be required", k)
		}
	}
	if t.EventTime == "" {
		return p.errorf(at, "", "missing event_time: (the timestamp field that partitions the table)")
	}
	if f := t.Field(t.EventTime); f == nil || f.Type != "timestamp" || !f.Required {
		return p.errorf(at+".event_time", "", "event_time %q must name a required timestamp field", t.EventTime)
	}
	for i, e := range t.Enrich {
		if err := p.validateEnrich(fmt.Sprintf("%s.enrich[%d]", at, i), t, e, columns); err != nil {
			return err
		}
	}
	return nil
}

func (p *Pipeline) validateField(at string, f Field) error {
	if CheckName("field", f.Name) != nil {
		return p.errorf(at, NameHint, "bad field name %q", f.Name)
	}
	// The JSON key is a member name in the json_transform type that Silver compiles;
	// quotes and backslashes would need escaping rules of their own there.
	if strings.ContainsAny(f.From, "\"\\") {
		return p.errorf(at+".from", "", "JSON key %q may not hold quotes or backslashes", f.From)
	}
	if slices.Contains(Reserved, f.Name) {
		return p.errorf(at, "rename it and read it with from: "+f.Name, "field name %q is reserved for partitioning", f.Name)
	}
	if f.Type == "" {
		return p.errorf(at, "", "missing type:")
	}
	if _, ok := DuckDBType(f.Type); !ok {
		return p.errorf(at+".type", "types: boolean, date, decimal(P,S), double, int, string, timestamp",
			"unknown type %q", f.Type)
	}
	if (f.Min != nil || f.Max != nil) && !IsNumeric(f.Type) {
		return p.errorf(at, "", "min and max apply to numbers, not %s", f.Type)
	}
	if f.Min != nil && f.Max != nil && *f.Min > *f.Max {
		return p.errorf(at+".min", "", "min %v is above max %v", *f.Min, *f.Max)
	}
	if len(f.In) > 0 && f.Type != "string" && f.Type != "int" {
		return p.errorf(at+".in", "", "allowed values apply to string and int fields, not %s", f.Type)
	}
	if f.Type == "int" {
		for _, v := range f.In {
			if _, err := strconv.ParseInt(v, 10, 64); err != nil {
				return p.errorf(at+".in", "", "allowed value %q is not an integer", v)
			}
		}
	}
	if f.Pattern != "" {
		if f.Type != "string" {
			return p.errorf(at+".pattern", "", "pattern applies to string fields, not %s", f.Type)
		}
		if _, err := regexp.Compile(f.Pattern); err != nil {
			return p.errorf(at+".pattern", "", "bad regular expression: %v", err)
		}
	}
	return nil
}

func (p *Pipeline) validateEnrich(at string, t *Table, e Enrich, columns map[string]bool) error {
	if p.Ref(e.Ref) == nil {
		return p.errorf(at+".ref", "declare it under reference:, or fix the name",
			"unknown reference table %q (reference: %s)", e.Ref, p.names("reference"))
	}
	if t.Field(e.On) == nil {
		return p.errorf(at+".on", "", "join field %q is not a declared field", e.On)
	}
	if CheckName("column", e.RefKey) != nil {
		return p.errorf(at+".ref_key", "", "bad column name %q", e.RefKey)
	}
	if len(e.Columns) == 0 {
		return p.errorf(at, "", "missing columns: (the reference columns to add)")
	}
	if e.AsOf != AsOfCurrent && e.AsOf != AsOfEventTime {
		return p.errorf(at+".as_of", "", "as_of is %q, want %s or %s", e.AsOf, AsOfCurrent, AsOfEventTime)
	}
	if ref := p.Ref(e.Ref); e.AsOf == AsOfEventTime && ref.Key != e.RefKey {
		// The load checks that each key has one row valid at a time; on another
		// column than the join's, that would not keep the join from doubling events.
		return p.errorf(at+".as_of", "set key: "+e.RefKey+" under reference."+e.Ref,
			"as_of: event_time joins on %s, so reference %s needs key: %s (it has %q)", e.RefKey, e.Ref, e.RefKey, ref.Key)
	}
	if e.OnMissing != MissingKeep && e.OnMissing != MissingQuarantine {
		return p.errorf(at+".on_missing", "", "on_missing is %q, want %s or %s", e.OnMissing, MissingKeep, MissingQuarantine)
	}
	for _, c := range e.Columns {
		if CheckName("column", c) != nil {
			return p.errorf(at+".columns", "", "bad column name %q", c)
		}
		if columns[c] || slices.Contains(Reserved, c) {
			return p.errorf(at+".columns", "", "column %q already exists in silver.%s", c, t.Name)
		}
		columns[c] = true
	}
	return nil
}

// names lists the declared names of a section, for "did you mean" style messages.
func (p *Pipeline) names(section string) string {
	var out []string
	switch section {
	case "streams":
		for _, s := range p.Streams {
			out = append(out, s.Name)
		}
	case "reference":
		for _, r := range p.Reference {
			out = append(out, r.Name)
		}
	}
	if len(out) == 0 {
		return "none declared"
	}
	return strings.Join(out, ", ")
}
