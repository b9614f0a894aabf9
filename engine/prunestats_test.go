package engine

import (
	"encoding/json"
	"maps"
	"testing"
)

// TestStatsBounds: the one-pass reading of min and max gives what encoding/json
// decodes, for the columns asked for, whatever the JSON's spacing, nesting and order;
// JSON that neither reads gives no bounds.
func TestStatsBounds(t *testing.T) {
	want := []string{"id", "name", "s", "k\"ey"}
	for _, stats := range []string{
		``,
		`{"numRecords":3,"minValues":{"id":1,"name":"a","x":2.5},"maxValues":{"id":9,"name":"z","x":3e4},"nullCount":{"id":0,"name":1}}`,
		` { "nullCount" : { "id" : 0 } , "maxValues" : { "name" : "z" , "id" : -9.25E+2 } ,"minValues":{ "id" : -1000 } } `,
		`{"minValues":{"s":{"a":1,"b":[1,"x",{"c":null}]},"id":null,"name":"\u00e9"},"maxValues":{"id":true}}`,
		`{"minValues":{"k\"ey":1,"id":2},"maxValues":{}}`,
		`{"minValues":{"id":1},"minValues":{"id":2}}`,
		`{"minValues":{"id":[]},"tags":{},"maxValues":{"name":"a,b}c"}}`,
		`{"minValues":{"id":1}`,
		`{"minValues":{"id":1}} x`,
		`{"minValues":{"id":1,}}`,
		`[1, 2]`,
	} {
		var st struct {
			Min map[string]json.RawMessage `json:"minValues"`
			Max map[string]json.RawMessage `json:"maxValues"`
		}
		if err := json.Unmarshal([]byte(stats), &st); err != nil {
			st.Min, st.Max = nil, nil
		}
		keep := func(m map[string]json.RawMessage) map[string]string {
			out := map[string]string{}
			for _, w := range want {
				if v, ok := m[w]; ok {
					out[w] = string(v)
				}
			}
			return out
		}
		min, max := statsBounds(stats, want)
		for _, c := range []struct {
			name      string
			got, want map[string]string
		}{{"min", keep(min), keep(st.Min)}, {"max", keep(max), keep(st.Max)}} {
			if !maps.EqualFunc(c.got, c.want, jsonEqual) {
				t.Errorf("%s\n%s = %q, want %q", stats, c.name, c.got, c.want)
			}
		}
	}
}

// jsonEqual reports whether two JSON values are the same value.
func jsonEqual(a, b string) bool {
	var x, y any
	return json.Unmarshal([]byte(a), &x) == nil && json.Unmarshal([]byte(b), &y) == nil && jsonString(x) == jsonString(y)
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
