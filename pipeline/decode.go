package pipeline

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Error is a problem in a pipeline file: what is wrong and where. Every error that Load
// returns for a bad file is one of these, so a user can jump to the line.
type Error struct {
	File string // the file as given to Load
	Line int    // 1-based; 0 when the problem has no single place
	Key  string // dotted path of the key, e.g. "silver.events.fields.amount.min"
	Msg  string
	hint string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Key != "" {
		fmt.Fprintf(&b, ": %s", e.Key)
	}
	fmt.Fprintf(&b, ": %s", e.Msg)
	return b.String()
}

// Hint says what the user can do about it; the CLI prints it under the error.
func (e *Error) Hint() string { return e.hint }

// decoder turns a yaml.Node tree into Go values strictly: every key must name a field,
// every scalar must parse as its field's type. yaml.v3's own Decode with KnownFields
// reports unknown keys but neither the file nor the key's path, and stops at the first
// problem of a kind; this walker names both and keeps the line of every key for the
// semantic checks that run afterwards.
type decoder struct {
	file  string
	lines map[string]int // key path -> line, for validation errors
}

func (d *decoder) errorf(n *yaml.Node, path, hint, format string, args ...any) *Error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &Error{File: d.file, Line: line, Key: path, Msg: fmt.Sprintf(format, args...), hint: hint}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

var durationType = reflect.TypeFor[time.Duration]()

// decode fills v (addressable) from n. path is the dotted key path of n.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil
		}
		return d.decode(n.Content[0], v, path)
	}
	d.lines[path] = n.Line
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		v.SetZero()
		return nil
	}
	if v.Type() == durationType {
		return d.duration(n, v, path)
	}
	switch v.Kind() {
	case reflect.Pointer:
		elem := reflect.New(v.Type().Elem())
		if err := d.decode(n, elem.Elem(), path); err != nil {
			return err
		}
		v.Set(elem)
		return nil
	case reflect.Struct:
		return d.structure(n, v, path)
	case reflect.Map:
		return d.mapping(n, v, path)
	case reflect.Slice:
		return d.slice(n, v, path)
	default:
		return d.scalar(n, v, path)
	}
}

// fieldsOf lists the yaml keys of struct type t and their field indexes.
func fieldsOf(t reflect.Type) (keys []string, index map[string]int) {
	index = map[string]int{}
	for i := range t.NumField() {
		tag := t.Field(i).Tag.Get("yaml")
		name, _, _ := strings.Cut(tag, ",")
		if name == "" || name == "-" {
			continue
		}
		keys = append(keys, name)
		index[name] = i
	}
	return keys, index
}

func (d *decoder) structure(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind == yaml.ScalarNode {
		// A struct with a field tagged ",short" may be written as that one scalar:
		// store: ./lake means store: {url: ./lake}.
		if i, ok := shortField(v.Type()); ok {
			return d.scalar(n, v.Field(i), path)
		}
	}
	if n.Kind != yaml.MappingNode {
		return d.errorf(n, path, "", "want a mapping of keys, got %s", describe(n))
	}
	keys, index := fieldsOf(v.Type())
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		at := join(path, k.Value)
		fi, ok := index[k.Value]
		if !ok {
			return d.errorf(k, at, "known keys here: "+strings.Join(keys, ", "), "unknown key %q", k.Value)
		}
		if seen[k.Value] {
			return d.errorf(k, at, "", "key given twice")
		}
		seen[k.Value] = true
		d.lines[at] = k.Line
		if err := d.decode(val, v.Field(fi), at); err != nil {
			return err
		}
		d.lines[at] = k.Line
	}
	return nil
}

func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind != yaml.MappingNode {
		return d.errorf(n, path, "", "want a mapping, got %s", describe(n))
	}
	m := reflect.MakeMap(v.Type())
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		at := join(path, k.Value)
		key := reflect.New(v.Type().Key()).Elem()
		if err := d.scalar(k, key, at); err != nil {
			return err
		}
		if m.MapIndex(key).IsValid() {
			return d.errorf(k, at, "", "key given twice")
		}
		elem := reflect.New(v.Type().Elem()).Elem()
		if err := d.decode(val, elem, at); err != nil {
			return err
		}
		d.lines[at] = k.Line
		m.SetMapIndex(key, elem)
	}
	v.Set(m)
	return nil
}

// slice decodes a sequence. A mapping decodes into a list of named structs, each key
// becoming the element's Name, so that declarations keep their file order. A scalar is
// not taken for a one-element list: `in: a, b` would silently be the one value "a, b".
func (d *decoder) slice(n *yaml.Node, v reflect.Value, path string) error {
	elemType := v.Type().Elem()
	switch {
	case n.Kind == yaml.MappingNode && elemType.Kind() == reflect.Struct && hasName(elemType):
		out := reflect.MakeSlice(v.Type(), 0, len(n.Content)/2)
		var names []string
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			at := join(path, k.Value)
			if slices.Contains(names, k.Value) {
				return d.errorf(k, at, "", "name given twice")
			}
			names = append(names, k.Value)
			elem := reflect.New(elemType).Elem()
			if val.Kind == yaml.ScalarNode && val.Tag == "!!null" {
				d.lines[at] = k.Line
			} else if err := d.decode(val, elem, at); err != nil {
				return err
			}
			d.lines[at] = k.Line
			elem.FieldByName("Name").SetString(k.Value)
			out = reflect.Append(out, elem)
		}
		v.Set(out)
		return nil
	case n.Kind == yaml.ScalarNode:
		return d.errorf(n, path, "write a list, e.g. ["+n.Value+"]", "want a list, got %s", describe(n))
	case n.Kind != yaml.SequenceNode:
		return d.errorf(n, path, "", "want a list, got %s", describe(n))
	}
	out := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		if err := d.decode(item, out.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
			return err
		}
	}
	v.Set(out)
	return nil
}

func shortField(t reflect.Type) (int, bool) {
	for i := range t.NumField() {
		_, opts, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if opts == "short" {
			return i, true
		}
	}
	return 0, false
}

func hasName(t reflect.Type) bool {
	f, ok := t.FieldByName("Name")
	return ok && f.Type.Kind() == reflect.String && f.Tag.Get("yaml") == "-"
}

func (d *decoder) scalar(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind != yaml.ScalarNode {
		return d.errorf(n, path, "", "want a %s, got %s", kindName(v.Kind()), describe(n))
	}
	s := n.Value
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return d.errorf(n, path, "", "want true or false, got %q", s)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64, reflect.Int32:
		i, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 10, 64)
		if err != nil {
			return d.errorf(n, path, "", "want an integer, got %q", s)
		}
		v.SetInt(i)
	case reflect.Float64:
		f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
		if err != nil {
			return d.errorf(n, path, "", "want a number, got %q", s)
		}
		// ParseFloat reads NaN and Inf, which YAML means as strings here and no bound
		// or setting can use: NaN compares false with everything.
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return d.errorf(n, path, "", "want a finite number, got %q", s)
		}
		v.SetFloat(f)
	case reflect.Interface:
		var x any
		if err := n.Decode(&x); err != nil {
			return d.errorf(n, path, "", "%v", err)
		}
		v.Set(reflect.ValueOf(x))
	default:
		return d.errorf(n, path, "", "cannot decode into %s", v.Type())
	}
	return nil
}

func (d *decoder) duration(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind != yaml.ScalarNode {
		return d.errorf(n, path, "", "want a duration such as 5m, got %s", describe(n))
	}
	dur, err := time.ParseDuration(n.Value)
	if err != nil || dur < 0 {
		return d.errorf(n, path, "", "want a duration such as 90s, 5m or 1h, got %q", n.Value)
	}
	v.SetInt(int64(dur))
	return nil
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	default:
		return fmt.Sprintf("%q", n.Value)
	}
}

func kindName(k reflect.Kind) string {
	switch k {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "integer"
	case reflect.Float64:
		return "number"
	default:
		return "single value"
	}
}
