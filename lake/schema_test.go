package lake_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/lakectl/lakectl/lake"
)

func TestSchemaRoundTrip(t *testing.T) {
	// Spark's schemaString for nested and decimal types, as found in real logs.
	const spark = `{"type":"struct","fields":[` +
		`{"name":"id","type":"long","nullable":false,"metadata":{}},` +
		`{"name":"price","type":"decimal(18,2)","nullable":true,"metadata":{"comment":"EUR"}},` +
		`{"name":"tags","type":{"type":"array","elementType":"string","containsNull":true},"nullable":true,"metadata":{}},` +
		`{"name":"attrs","type":{"type":"map","keyType":"string","valueType":{"type":"array","elementType":"integer","containsNull":false},"valueContainsNull":true},"nullable":true,"metadata":{}},` +
		`{"name":"geo","type":{"type":"struct","fields":[{"name":"lat","type":"double","nullable":true,"metadata":{}},{"name":"lon","type":"double","nullable":true,"metadata":{}}]},"nullable":true,"metadata":{}}]}`
	s, err := lake.ParseSchema(spark)
	if err != nil {
		t.Fatal(err)
	}
	wantTypes := map[string]string{
		"id": "long", "price": "decimal(18,2)", "tags": "array<string>",
		"attrs": "map<string,array<integer>>", "geo": "struct<lat:double,lon:double>",
	}
	for _, f := range s.Fields {
		if f.Type != wantTypes[f.Name] || f.DataType.String() != f.Type {
			t.Errorf("%s: Type %q (tree %q), want %q", f.Name, f.Type, f.DataType.String(), wantTypes[f.Name])
		}
	}
	price, _ := s.Field("price")
	if p, sc, ok := price.DataType.DecimalParams(); !ok || p != 18 || sc != 2 {
		t.Errorf("decimal params = %d,%d,%v", p, sc, ok)
	}
	if price.Metadata["comment"] != "EUR" {
		t.Errorf("metadata lost: %v", price.Metadata)
	}
	attrs, _ := s.Field("attrs")
	if attrs.DataType.Value.ContainsNull || !attrs.DataType.ValueContainsNull {
		t.Errorf("map nullability lost: %+v", attrs.DataType)
	}
	out, err := s.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	json.Unmarshal([]byte(spark), &a)
	json.Unmarshal([]byte(out), &b)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("round trip changed the schema:\n in %s\nout %s", spark, out)
	}

	// A writer builds the same schema with the constructors.
	built := lake.NewSchema(
		lake.NewField("id", lake.Primitive("long"), false),
		lake.NewField("price", lake.Decimal(18, 2), true),
		lake.NewField("tags", lake.ArrayOf(lake.Primitive("string"), true), true),
		lake.NewField("attrs", lake.MapOf(lake.Primitive("string"), lake.ArrayOf(lake.Primitive("integer"), false), true), true),
		lake.NewField("geo", lake.StructOf(
			lake.NewField("lat", lake.Primitive("double"), true),
			lake.NewField("lon", lake.Primitive("double"), true)), true),
	)
	built.Fields[1].Metadata = map[string]any{"comment": "EUR"}
	bj, err := built.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var c any
	json.Unmarshal([]byte(bj), &c)
	if !reflect.DeepEqual(a, c) {
		t.Errorf("constructed schema differs:\n got %s\nwant %s", bj, spark)
	}
}

func TestSchemaErrors(t *testing.T) {
	for _, bad := range []string{`{`, `"long"`, `{"type":"struct","fields":[{"name":"a","type":{"type":"array"}}]}`, `{"type":"tuple"}`} {
		if _, err := lake.ParseSchema(bad); err == nil {
			t.Errorf("ParseSchema(%s) succeeded", bad)
		}
	}
}
