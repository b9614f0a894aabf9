package lake

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Schema is a Delta table's schema: the top-level struct of its columns. It round-trips
// the protocol's schemaString JSON, nested struct, array and map types and
// decimal(p,s) included.
//
//	s := lake.NewSchema(
//		lake.NewField("id", lake.Primitive("long"), false),
//		lake.NewField("price", lake.Decimal(18, 2), true),
//		lake.NewField("tags", lake.ArrayOf(lake.Primitive("string"), true), true),
//	)
//	md.SchemaString, err = s.JSON()
type Schema struct {
	Fields []Field
}

// Field is one column, or one field of a nested struct.
type Field struct {
	Name string
	// Type is the type written out in Delta's simple form: "long", "decimal(10,2)",
	// "array<string>", "map<string,long>", "struct<a:int,b:string>". It is what a
	// listing shows; DataType holds the same type as a tree.
	Type     string
	Nullable bool
	// Metadata is the field's free-form metadata (comments, column mapping ids, ...).
	Metadata map[string]any
	DataType DataType
}

// DataType is a Delta data type: a primitive (Name is "long", "decimal(10,2)", ...) or
// a struct, array or map (Name is "struct", "array" or "map" and the other fields
// describe its parts).
type DataType struct {
	Name string

	Fields []Field // struct

	Element      *DataType // array
	ContainsNull bool      // array

	Key               *DataType // map
	Value             *DataType // map
	ValueContainsNull bool      // map
}

// Primitive returns a primitive type by its Delta name: string, long, integer, short,
// byte, float, double, boolean, binary, date, timestamp, timestamp_ntz, decimal(p,s).
func Primitive(name string) DataType { return DataType{Name: name} }

// Decimal returns decimal(precision, scale).
func Decimal(precision, scale int) DataType {
	return DataType{Name: fmt.Sprintf("decimal(%d,%d)", precision, scale)}
}

// StructOf returns a struct type of fields.
func StructOf(fields ...Field) DataType { return DataType{Name: "struct", Fields: fields} }

// ArrayOf returns an array type.
func ArrayOf(element DataType, containsNull bool) DataType {
	return DataType{Name: "array", Element: &element, ContainsNull: containsNull}
}

// MapOf returns a map type.
func MapOf(key, value DataType, valueContainsNull bool) DataType {
	return DataType{Name: "map", Key: &key, Value: &value, ValueContainsNull: valueContainsNull}
}

// NewField returns a field of type t, with Type filled in from it.
func NewField(name string, t DataType, nullable bool) Field {
	return Field{Name: name, Type: t.String(), Nullable: nullable, DataType: t}
}

// NewSchema returns a schema of fields.
func NewSchema(fields ...Field) *Schema { return &Schema{Fields: fields} }

// Field returns the top-level field called name.
func (s *Schema) Field(name string) (Field, bool) {
	for _, f := range s.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// IsPrimitive reports whether t is neither a struct, an array nor a map.
func (t DataType) IsPrimitive() bool {
	switch t.Name {
	case "struct", "array", "map":
		return false
	}
	return true
}

// DecimalParams returns the precision and scale of a decimal type.
func (t DataType) DecimalParams() (precision, scale int, ok bool) {
	inner, found := strings.CutPrefix(t.Name, "decimal(")
	if !found {
		return 0, 0, false
	}
	inner, found = strings.CutSuffix(inner, ")")
	p, s, found2 := strings.Cut(inner, ",")
	if !found || !found2 {
		return 0, 0, false
	}
	precision, err1 := strconv.Atoi(strings.TrimSpace(p))
	scale, err2 := strconv.Atoi(strings.TrimSpace(s))
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return precision, scale, true
}

// String writes the type in Delta's simple form, e.g. "map<string,array<long>>".
func (t DataType) String() string {
	switch t.Name {
	case "struct":
		parts := make([]string, len(t.Fields))
		for i, f := range t.Fields {
			parts[i] = f.Name + ":" + f.dataType().String()
		}
		return "struct<" + strings.Join(parts, ",") + ">"
	case "array":
		return "array<" + t.Element.String() + ">"
	case "map":
		return "map<" + t.Key.String() + "," + t.Value.String() + ">"
	}
	return t.Name
}

// dataType returns the field's type tree, falling back to Type for fields built by
// hand with only a primitive Type name.
func (f Field) dataType() DataType {
	if f.DataType.Name != "" {
		return f.DataType
	}
	return DataType{Name: f.Type}
}

// ParseSchema decodes a schemaString. The top-level type must be a struct.
func ParseSchema(schemaString string) (*Schema, error) {
	var raw jsonType
	if err := json.Unmarshal([]byte(schemaString), &raw); err != nil {
		return nil, fmt.Errorf("parse schema: %w", err)
	}
	t, err := raw.dataType()
	if err != nil {
		return nil, fmt.Errorf("parse schema: %w", err)
	}
	if t.Name != "struct" {
		return nil, fmt.Errorf("parse schema: top-level type is %s, want struct", t.Name)
	}
	return &Schema{Fields: t.Fields}, nil
}

// JSON encodes the schema as a schemaString.
func (s *Schema) JSON() (string, error) {
	b, err := json.Marshal(StructOf(s.Fields...).toJSON())
	if err != nil {
		return "", fmt.Errorf("encode schema: %w", err)
	}
	return string(b), nil
}

// MarshalJSON implements json.Marshaler with the schemaString form.
func (s *Schema) MarshalJSON() ([]byte, error) {
	return json.Marshal(StructOf(s.Fields...).toJSON())
}

// UnmarshalJSON implements json.Unmarshaler with the schemaString form.
func (s *Schema) UnmarshalJSON(b []byte) error {
	parsed, err := ParseSchema(string(b))
	if err != nil {
		return err
	}
	*s = *parsed
	return nil
}

// jsonType mirrors the protocol's JSON for a type: a string for a primitive, an object
// for a complex type.
type jsonType struct {
	primitive string
	complex   *jsonComplex
}

type jsonComplex struct {
	Type              string      `json:"type"`
	Fields            []jsonField `json:"fields,omitempty"`
	ElementType       *jsonType   `json:"elementType,omitempty"`
	ContainsNull      *bool       `json:"containsNull,omitempty"`
	KeyType           *jsonType   `json:"keyType,omitempty"`
	ValueType         *jsonType   `json:"valueType,omitempty"`
	ValueContainsNull *bool       `json:"valueContainsNull,omitempty"`
}

type jsonField struct {
	Name     string         `json:"name"`
	Type     jsonType       `json:"type"`
	Nullable bool           `json:"nullable"`
	Metadata map[string]any `json:"metadata"`
}

func (j jsonType) MarshalJSON() ([]byte, error) {
	if j.complex != nil {
		return json.Marshal(j.complex)
	}
	return json.Marshal(j.primitive)
}

func (j *jsonType) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &j.primitive)
	}
	j.complex = &jsonComplex{}
	return json.Unmarshal(b, j.complex)
}

func (j jsonType) dataType() (DataType, error) {
	if j.complex == nil {
		if j.primitive == "" {
			return DataType{}, fmt.Errorf("empty type")
		}
		return DataType{Name: j.primitive}, nil
	}
	c := j.complex
	switch c.Type {
	case "struct":
		fields := make([]Field, 0, len(c.Fields))
		for _, jf := range c.Fields {
			t, err := jf.Type.dataType()
			if err != nil {
				return DataType{}, fmt.Errorf("field %s: %w", jf.Name, err)
			}
			f := NewField(jf.Name, t, jf.Nullable)
			f.Metadata = jf.Metadata
			fields = append(fields, f)
		}
		return StructOf(fields...), nil
	case "array":
		if c.ElementType == nil {
			return DataType{}, fmt.Errorf("array without elementType")
		}
		e, err := c.ElementType.dataType()
		if err != nil {
			return DataType{}, fmt.Errorf("array element: %w", err)
		}
		return ArrayOf(e, c.ContainsNull == nil || *c.ContainsNull), nil
	case "map":
		if c.KeyType == nil || c.ValueType == nil {
			return DataType{}, fmt.Errorf("map without keyType or valueType")
		}
		k, err := c.KeyType.dataType()
		if err != nil {
			return DataType{}, fmt.Errorf("map key: %w", err)
		}
		v, err := c.ValueType.dataType()
		if err != nil {
			return DataType{}, fmt.Errorf("map value: %w", err)
		}
		return MapOf(k, v, c.ValueContainsNull == nil || *c.ValueContainsNull), nil
	}
	return DataType{}, fmt.Errorf("unknown complex type %q", c.Type)
}

func (t DataType) toJSON() jsonType {
	switch t.Name {
	case "struct":
		fields := make([]jsonField, len(t.Fields))
		for i, f := range t.Fields {
			md := f.Metadata
			if md == nil {
				md = map[string]any{}
			}
			fields[i] = jsonField{Name: f.Name, Type: f.dataType().toJSON(), Nullable: f.Nullable, Metadata: md}
		}
		return jsonType{complex: &jsonComplex{Type: "struct", Fields: fields}}
	case "array":
		e := t.Element.toJSON()
		return jsonType{complex: &jsonComplex{Type: "array", ElementType: &e, ContainsNull: &t.ContainsNull}}
	case "map":
		k, v := t.Key.toJSON(), t.Value.toJSON()
		return jsonType{complex: &jsonComplex{Type: "map", KeyType: &k, ValueType: &v, ValueContainsNull: &t.ValueContainsNull}}
	}
	return jsonType{primitive: t.Name}
}
