package engine

import (
	"encoding/json"
	"strings"
)

// statsBounds reads the minValues and maxValues of the columns want (by name, as the
// stats spell them) from the JSON of an add's stats, in one pass that skips the rest:
// pruning reads every file's stats, and decoding each whole (nullCount, every column)
// costs more than the comparisons. JSON it does not read as the simple objects that
// writers write (an escape in a key, say) is decoded by encoding/json instead; stats
// that neither reads give no bounds, which only cost pruning for that file.
func statsBounds(stats string, want []string) (min, max map[string]json.RawMessage) {
	min, max = map[string]json.RawMessage{}, map[string]json.RawMessage{}
	if stats == "" {
		return min, max
	}
	if (&statsScanner{s: stats, want: want, min: min, max: max}).read() {
		return min, max
	}
	var st struct {
		Min map[string]json.RawMessage `json:"minValues"`
		Max map[string]json.RawMessage `json:"maxValues"`
	}
	if json.Unmarshal([]byte(stats), &st) != nil {
		return map[string]json.RawMessage{}, map[string]json.RawMessage{}
	}
	return st.Min, st.Max
}

type statsScanner struct {
	s        string
	i        int
	want     []string
	min, max map[string]json.RawMessage
}

// read reads the top-level object; false for anything it does not read.
func (p *statsScanner) read() bool {
	ok := p.object(func(key string) bool {
		switch key {
		case "minValues":
			return p.object(func(col string) bool { return p.value(col, p.min) })
		case "maxValues":
			return p.object(func(col string) bool { return p.value(col, p.max) })
		}
		return p.skip()
	})
	p.space()
	return ok && p.i == len(p.s)
}

// value keeps the value of col in m if col is wanted, and skips it otherwise.
func (p *statsScanner) value(col string, m map[string]json.RawMessage) bool {
	start := p.i
	if !p.skip() {
		return false
	}
	for _, w := range p.want {
		if w == col {
			m[col] = json.RawMessage(p.s[start:p.i])
		}
	}
	return true
}

func (p *statsScanner) space() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\r', '\n':
			p.i++
		default:
			return
		}
	}
}

// object reads {"key": value, ...}, calling member at each value, and the space
// before the object.
func (p *statsScanner) object(member func(key string) bool) bool {
	p.space()
	if p.i >= len(p.s) || p.s[p.i] != '{' {
		return false
	}
	p.i++
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return true
	}
	for {
		p.space()
		key, ok := p.str()
		if !ok {
			return false
		}
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return false
		}
		p.i++
		p.space()
		if !member(key) {
			return false
		}
		p.space()
		if p.i >= len(p.s) {
			return false
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return true
		default:
			return false
		}
	}
}

// str reads a string without escapes (those are left to encoding/json).
func (p *statsScanner) str() (string, bool) {
	if p.i >= len(p.s) || p.s[p.i] != '"' {
		return "", false
	}
	end := strings.IndexAny(p.s[p.i+1:], "\"\\")
	if end < 0 || p.s[p.i+1+end] != '"' {
		return "", false
	}
	s := p.s[p.i+1 : p.i+1+end]
	for j := 0; j < len(s); j++ {
		if s[j] < 0x20 {
			return "", false
		}
	}
	p.i += end + 2
	return s, true
}

// skip passes over one value: a string, a number, true, false, null, or an object or
// array of them.
func (p *statsScanner) skip() bool {
	if p.i >= len(p.s) {
		return false
	}
	switch c := p.s[p.i]; {
	case c == '"':
		_, ok := p.str()
		return ok
	case c == '{':
		return p.object(func(string) bool { return p.skip() })
	case c == '[':
		p.i++
		p.space()
		if p.i < len(p.s) && p.s[p.i] == ']' {
			p.i++
			return true
		}
		for {
			p.space()
			if !p.skip() {
				return false
			}
			p.space()
			if p.i >= len(p.s) {
				return false
			}
			p.i++
			switch p.s[p.i-1] {
			case ',':
			case ']':
				return true
			default:
				return false
			}
		}
	case c == '-' || (c >= '0' && c <= '9'):
		// The characters of a number; the numbers pruning uses are read by
		// parseStatNumber, which checks them.
		for p.i < len(p.s) && (p.s[p.i] >= '0' && p.s[p.i] <= '9' || p.s[p.i] == '.' || p.s[p.i] == 'e' || p.s[p.i] == 'E' || p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		return true
	}
	for _, lit := range []string{"true", "false", "null"} {
		if strings.HasPrefix(p.s[p.i:], lit) {
			p.i += len(lit)
			return true
		}
	}
	return false
}
