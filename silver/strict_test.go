package silver

import (
	"testing"
	"time"

	"github.com/lakectl/lakectl/engine/sqlfrag"
	"github.com/lakectl/lakectl/pipeline"
)

// strictContract has one field of every type, none required, so each case below
// exercises one field at a time.
func strictContract(t *testing.T) *Contract {
	t.Helper()
	c, err := Compile(pipeline.Table{
		Name: "strict", Source: "strict", Key: []string{"id"}, EventTime: "at",
		Fields: []pipeline.Field{
			{Name: "id", Type: "string", Required: true},
			{Name: "at", Type: "timestamp", Required: true},
			{Name: "n", Type: "int"},
			{Name: "x", Type: "double"},
			{Name: "amount", Type: "decimal(18,2)"},
			{Name: "ok", Type: "boolean"},
			{Name: "day", Type: "date"},
			{Name: "s", Type: "string"},
			{Name: "kind", Type: "string", In: []string{"a", "b"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestStrictConversion: a value is stored only when it is of the JSON type the
// contract allows and fits the declared type exactly; anything else goes to
// quarantine with a reason naming the field and the value, never converted lossily.
func TestStrictConversion(t *testing.T) {
	db := openDuckDB(t)
	c := strictContract(t)
	const at = `"at":"2026-11-21T08:00:00Z"`
	cases := []struct {
		name, fields, reason, stored string // stored: the field's value as VARCHAR when valid
		field                        string
	}{
		{"int", `"n":12`, "", "12", "n"},
		{"int written with .0", `"n":12.0`, "", "12", "n"},
		{"int with a fraction", `"n":12.5`, "n: 12.5 is not a whole number", "", "n"},
		{"int from a boolean", `"n":true`, "n: true is not an int", "", "n"},
		{"int from a string", `"n":"12"`, `n: "12" is not an int`, "", "n"},
		{"int out of range", `"n":18446744073709551615`, "n: 18446744073709551615 is out of range for int", "", "n"},
		{"int far out of range", `"n":1e30`, "n: 1e30 is out of range for int", "", "n"},
		{"string", `"s":"a\"b"`, "", `a"b`, "s"},
		{"string from a number", `"s":1`, "s: 1 is not a string", "", "s"},
		{"string from an object", `"s":{"x":1}`, `s: {"x":1} is not a string`, "", "s"},
		{"string from a boolean", `"s":false`, "s: false is not a string", "", "s"},
		{"decimal", `"amount":12.34`, "", "12.34", "amount"},
		{"decimal from an integer", `"amount":12`, "", "12.00", "amount"},
		{"decimal from a numeric string", `"amount":"12.34"`, "", "12.34", "amount"},
		{"decimal too many places", `"amount":12.345`, "amount: 12.345 has more than 2 decimal places", "", "amount"},
		{"decimal string too many places", `"amount":"12.345"`, `amount: "12.345" has more than 2 decimal places`, "", "amount"},
		{"decimal out of range", `"amount":12345678901234567890`, "amount: 12345678901234567890 is out of range for decimal(18,2)", "", "amount"},
		{"decimal string out of range", `"amount":"12345678901234567.5"`, `amount: "12345678901234567.5" is out of range for decimal(18,2)`, "", "amount"},
		{"decimal beyond what a JSON number holds", `"amount":1234567890123456.78`, "amount: 1234567890123456.8 has more digits than a JSON number holds exactly; send it as a string", "", "amount"},
		{"decimal big amount as a string", `"amount":"1234567890123456.78"`, "", "1234567890123456.78", "amount"},
		{"decimal from a word", `"amount":"lots"`, `amount: "lots" is not a decimal(18,2)`, "", "amount"},
		{"decimal from a boolean", `"amount":true`, "amount: true is not a decimal(18,2)", "", "amount"},
		{"double", `"x":1.5`, "", "1.5", "x"},
		{"double from an integer", `"x":2`, "", "2.0", "x"},
		{"double from a string", `"x":"1.5"`, `x: "1.5" is not a double`, "", "x"},
		{"double overflow", `"x":1e400`, "x: 1e400 is out of range for double", "", "x"},
		{"boolean", `"ok":true`, "", "true", "ok"},
		{"boolean from a number", `"ok":1`, "ok: 1 is not a boolean", "", "ok"},
		{"boolean from a string", `"ok":"true"`, `ok: "true" is not a boolean`, "", "ok"},
		{"date", `"day":"2026-11-21"`, "", "2026-11-21", "day"},
		{"date with a time", `"day":"2026-11-21 08:00:00"`, `day: "2026-11-21 08:00:00" is not a date`, "", "day"},
		{"date from a number", `"day":20261121`, "day: 20261121 is not a date", "", "day"},
		{"null is absent", `"n":null`, "", "", "n"},
		// Trailing zeros do not change a value, as a number or as a string.
		{"decimal with trailing zeros", `"amount":12.300`, "", "12.30", "amount"},
		{"decimal string with trailing zeros", `"amount":"12.300"`, "", "12.30", "amount"},
		{"decimal string with a whole number of zeros", `"amount":"12.000"`, "", "12.00", "amount"},
		{"decimal string with a significant third place", `"amount":"12.3050"`, `amount: "12.3050" has more than 2 decimal places`, "", "amount"},
		// Payloads that DuckDB's reader takes but RFC 8259 does not.
		{"trailing comma in the object", `"s":"x",`, "payload: not valid JSON", "", "s"},
		{"trailing comma in an array nobody reads", `"other":[1,2,]`, "payload: not valid JSON", "", "s"},
		{"NaN in a member nobody reads", `"other":NaN`, "payload: not valid JSON", "", "s"},
		{"-Infinity in a member nobody reads", `"other":-Infinity`, "payload: not valid JSON", "", "s"},
		{"NaN amount", `"amount":NaN`, "payload: not valid JSON", "", "amount"},
		{"duplicate key the contract reads", `"s":"click","s":"purchase"`, `payload: duplicate key "s"`, "", "s"},
		{"duplicate key nobody reads", `"other":1,"other":2`, `payload: duplicate key "other"`, "", "s"},
		{"duplicate key spelled with an escape", `"s":"click","s":"purchase"`, `payload: duplicate key "s"`, "", "s"},
		{"same key in nested objects", `"o":{"s":1},"p":{"s":2},"s":"x"`, "", "x", "s"},
		// String values in reasons are quoted, so that blanks show.
		{"empty string not allowed", `"kind":""`, `kind: "" is not one of "a", "b"`, "", "kind"},
		{"trailing space not allowed", `"kind":"a "`, `kind: "a " is not one of "a", "b"`, "", "kind"},
		{"allowed value", `"kind":"b"`, "", "b", "kind"},
	}
	tsCases := []struct{ name, value, reason, stored string }{
		{"timestamp with offset", `"2026-11-21T10:00:00+02:00"`, "", "2026-11-21 08:00:00+00"},
		{"timestamp without zone", `"2026-11-21T08:00:00"`, `at: "2026-11-21T08:00:00" has no time zone`, ""},
		{"timestamp as epoch seconds", `1763712000`, "at: 1763712000 is not a timestamp", ""},
		{"timestamp from a word", `"soon"`, `at: "soon" is not a timestamp`, ""},
		{"timestamp with nanoseconds", `"2026-11-21T08:00:00.123456789Z"`, `at: "2026-11-21T08:00:00.123456789Z" is more precise than a microsecond`, ""},
		{"timestamp with one nanosecond", `"2026-11-21T08:00:00.0000001+01:00"`, `at: "2026-11-21T08:00:00.0000001+01:00" is more precise than a microsecond`, ""},
		{"timestamp with zeros past microseconds", `"2026-11-21T08:00:00.123456000Z"`, "", "2026-11-21 08:00:00.123456+00"},
		{"timestamp in lower case", `"2026-11-21t08:00:00.5z"`, "", "2026-11-21 08:00:00.5+00"},
		{"timestamp with a space for T", `"2026-11-21 10:00:00+02:00"`, "", "2026-11-21 08:00:00+00"},
		{"timestamp with offset +0000", `"2026-11-21T08:00:00+0000"`, `at: "2026-11-21T08:00:00+0000" has a zone offset that is not ±hh:mm`, ""},
		{"timestamp with offset +00", `"2026-11-21T08:00:00+00"`, `at: "2026-11-21T08:00:00+00" has a zone offset that is not ±hh:mm`, ""},
		{"timestamp with hour 24", `"2026-11-21T24:00:00Z"`, `at: "2026-11-21T24:00:00Z" is not a timestamp`, ""},
		{"timestamp with a one-digit hour", `"2026-11-21T8:00:00Z"`, `at: "2026-11-21T8:00:00Z" is not a timestamp`, ""},
		{"timestamp with a trailing space", `"2026-11-21T08:00:00Z "`, `at: "2026-11-21T08:00:00Z " is not a timestamp`, ""},
		{"timestamp with a zone name", `"2026-11-21T08:00:00 UTC"`, `at: "2026-11-21T08:00:00 UTC" is not a timestamp`, ""},
		{"timestamp on a day that does not exist", `"2026-02-30T08:00:00Z"`, `at: "2026-02-30T08:00:00Z" is not a timestamp`, ""},
	}
	mustExec(t, db, `CREATE OR REPLACE TABLE src (payload BLOB, topic VARCHAR, "partition" INTEGER, "offset" BIGINT, ingested_at TIMESTAMPTZ)`)
	type want struct{ name, field, reason, stored string }
	var wants []want
	ingested := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	for _, tc := range cases {
		mustExec(t, db, "INSERT INTO src VALUES (?, 'strict', 0, ?, ?)", []byte(`{"id":"r",`+at+`,`+tc.fields+`}`), len(wants), ingested)
		wants = append(wants, want{tc.name, tc.field, tc.reason, tc.stored})
	}
	for _, tc := range tsCases {
		mustExec(t, db, "INSERT INTO src VALUES (?, 'strict', 0, ?, ?)", []byte(`{"id":"r","at":`+tc.value+`}`), len(wants), ingested)
		wants = append(wants, want{tc.name, "at", tc.reason, tc.stored})
	}
	mustExec(t, db, "CREATE TABLE out AS "+c.Query(sqlfrag.Ident("src"), nil).String())
	for i, w := range wants {
		var reason, stored string
		if err := db.QueryRow(`SELECT coalesce(`+ident(colReason)+`, ''), coalesce(CAST(`+ident(w.field)+` AS VARCHAR), '') FROM out WHERE `+
			ident(ColOffset)+` = ?`, i).Scan(&reason, &stored); err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
		if reason != w.reason {
			t.Errorf("%s: reason %q, want %q", w.name, reason, w.reason)
		}
		if w.reason == "" && stored != w.stored {
			t.Errorf("%s: stored %s = %q, want %q", w.name, w.field, stored, w.stored)
		}
	}
}
