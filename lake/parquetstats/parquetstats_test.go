package parquetstats

import (
	"bytes"
	"encoding/json"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
)

type inner struct {
	Score int32  `parquet:"score"`
	Label string `parquet:"label"`
}

type row struct {
	ID     int64     `parquet:"id"`
	Small  int32     `parquet:"small"`
	Price  float64   `parquet:"price"`
	Name   *string   `parquet:"name,optional"`
	At     time.Time `parquet:"at,timestamp(microsecond:utc)"`
	Day    int32     `parquet:"day,date"` // days; parquet-go v0.32 writes time.Time dates wrong
	Amount int64     `parquet:"amount,decimal(2:18)"`
	Flag   bool      `parquet:"flag"`
	Blob   []byte    `parquet:"blob"`
	Nested inner     `parquet:"nested"`
	Tags   []string  `parquet:"tags,list"`
}

func strp(s string) *string { return &s }

// testRows spans two row groups with bounds in each, so the file's bounds merge them.
func testRows() []row {
	base := time.Date(2026, 11, 21, 8, 0, 0, 123456000, time.UTC)
	var rows []row
	for i := range 7 {
		r := row{
			ID:     int64(100 - 10*i),
			Small:  int32(i - 3),
			Price:  1.5 * float64(i),
			At:     base.Add(time.Duration(i) * 90 * time.Minute),
			Day:    int32(base.AddDate(0, 0, -i).Unix() / 86400),
			Amount: int64(-250 + 125*i),
			Flag:   i%2 == 0,
			Blob:   []byte{byte(i)},
			Nested: inner{Score: int32(i * i), Label: "l" + string(rune('a'+i))},
			Tags:   []string{"x"},
		}
		if i%3 != 0 {
			r.Name = strp(strings.Repeat("n", i))
		}
		rows = append(rows, r)
	}
	return rows
}

func writeRows(t *testing.T, rows []row) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[row](&buf, parquet.MaxRowsPerRowGroup(4))
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadMatchesTheRows(t *testing.T) {
	rows := testRows()
	data := writeRows(t, rows)
	st, err := Read(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if st.NumRecords != int64(len(rows)) {
		t.Errorf("numRecords = %d, want %d", st.NumRecords, len(rows))
	}

	// Expected bounds, computed from the rows.
	ids := col(rows, func(r row) int64 { return r.ID })
	smalls := col(rows, func(r row) int64 { return int64(r.Small) })
	prices := col(rows, func(r row) float64 { return r.Price })
	ats := col(rows, func(r row) int64 { return r.At.UnixMicro() })
	days := col(rows, func(r row) int64 { return int64(r.Day) * 86400 })
	amounts := col(rows, func(r row) int64 { return r.Amount })
	scores := col(rows, func(r row) int64 { return int64(r.Nested.Score) })
	var names []string
	var nullNames int64
	for _, r := range rows {
		if r.Name == nil {
			nullNames++
		} else {
			names = append(names, *r.Name)
		}
	}
	ts := func(us int64) string { return time.UnixMicro(us).UTC().Format("2006-01-02T15:04:05.000000Z") }
	day := func(s int64) string { return time.Unix(s, 0).UTC().Format(time.DateOnly) }
	dec := func(v int64) json.Number { return json.Number(new(big.Rat).SetFrac64(v, 100).FloatString(2)) }

	wantMin := map[string]any{
		"id": slices.Min(ids), "small": slices.Min(smalls), "price": slices.Min(prices),
		"name": slices.Min(names), "at": ts(slices.Min(ats)), "day": day(slices.Min(days)),
		"amount": dec(slices.Min(amounts)),
		"nested": map[string]any{"score": slices.Min(scores), "label": "la"},
	}
	wantMax := map[string]any{
		"id": slices.Max(ids), "small": slices.Max(smalls), "price": slices.Max(prices),
		"name": slices.Max(names), "at": ts(slices.Max(ats)), "day": day(slices.Max(days)),
		"amount": dec(slices.Max(amounts)),
		"nested": map[string]any{"score": slices.Max(scores), "label": "l" + string(rune('a'+len(rows)-1))},
	}
	wantNulls := map[string]any{
		"id": int64(0), "small": int64(0), "price": int64(0), "name": nullNames, "at": int64(0),
		"day": int64(0), "amount": int64(0), "flag": int64(0), "blob": int64(0),
		"nested": map[string]any{"score": int64(0), "label": int64(0)},
	}
	assertJSONEqual(t, "minValues", st.MinValues, wantMin)
	assertJSONEqual(t, "maxValues", st.MaxValues, wantMax)
	assertJSONEqual(t, "nullCount", st.NullCount, wantNulls)
}

func TestLongStringsKeepALowerBoundOnly(t *testing.T) {
	rows := testRows()
	rows[1].Name = strp("a" + strings.Repeat("m", MaxStringPrefix+5)) // the minimum
	rows[2].Name = strp(strings.Repeat("z", MaxStringPrefix+5))       // the maximum
	data := writeRows(t, rows)
	st, err := Read(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.MaxValues["name"]; ok {
		t.Errorf("maxValues.name = %v, want none (a cut maximum is no upper bound)", st.MaxValues["name"])
	}
	var want string
	for _, r := range rows {
		if r.Name != nil && (want == "" || *r.Name < want) {
			want = *r.Name
		}
	}
	if len(want) > MaxStringPrefix {
		want = want[:MaxStringPrefix]
	}
	if got := st.MinValues["name"]; got != want {
		t.Errorf("minValues.name = %v, want %q", got, want)
	}
}

func col[T any](rows []row, f func(row) T) []T {
	out := make([]T, len(rows))
	for i, r := range rows {
		out[i] = f(r)
	}
	return out
}

// assertJSONEqual compares as Delta readers would see the values: through JSON.
func assertJSONEqual(t *testing.T, what string, got, want map[string]any) {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var gv, wv any
	json.Unmarshal(g, &gv)
	json.Unmarshal(w, &wv)
	if string(mustJSON(gv)) != string(mustJSON(wv)) {
		t.Errorf("%s =\n  %s\nwant\n  %s", what, g, w)
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
