package pipeline

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestExampleLoads(t *testing.T) {
	dir := t.TempDir()
	written, err := WriteExample(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(written) < 2 {
		t.Fatalf("WriteExample wrote %v, want lakectl.yaml and reference data", written)
	}
	p, err := Load(dir, Overrides{})
	if err != nil {
		t.Fatalf("example pipeline does not load: %v", err)
	}
	if got, want := p.Store.URL, "file://"+filepath.Join(dir, "lake"); got != want {
		t.Errorf("store URL = %q, want %q", got, want)
	}
	events := p.Table("events")
	if events == nil {
		t.Fatal("example has no silver table events")
	}
	var names []string
	for _, f := range events.Fields {
		names = append(names, f.Name)
	}
	if got, want := strings.Join(names, ","), "event_id,user_id,event_type,amount,timestamp"; got != want {
		t.Errorf("fields in file order = %s, want %s", got, want)
	}
	if got := p.Stream("events").Grace; got != 5*time.Minute {
		t.Errorf("grace = %v, want 5m", got)
	}
	if ref := p.Ref("users"); ref == nil {
		t.Error("example has no reference table users")
	} else if _, err := os.Stat(p.Path(ref.File)); err != nil {
		t.Errorf("reference file of users: %v", err)
	}
	if _, err := WriteExample(dir); !errors.Is(err, ErrPipelineExists) {
		t.Errorf("second WriteExample into the same directory: err = %v, want ErrPipelineExists", err)
	}
}

const base = `
streams:
  events: {}
reference:
  users: {file: users.csv}
silver:
  events:
    source: events
    fields:
      id: {type: string, required: true}
      ts: {type: timestamp, required: true}
      n:  {type: int}
    key: [id]
    event_time: ts
`

func TestBadFiles(t *testing.T) {
	tests := []struct {
		name     string
		yaml     string
		wantLine int
		wantKey  string
		wantMsg  string
	}{
		{"unknown top-level key", "strems:\n  events: {}\n", 1, "strems", `unknown key "strems"`},
		{"unknown nested key", base + "    enrich:\n      - {ref: users, on: id, colums: [x]}\n", 16, "silver.events.enrich[0].colums", `unknown key "colums"`},
		{"misspelt field option", strings.Replace(base, "n:  {type: int}", "n:  {type: int, requird: true}", 1), 12, "silver.events.fields.n.requird", "unknown key"},
		{"bad number", strings.Replace(base, "n:  {type: int}", "n:  {type: int, min: ten}", 1), 12, "silver.events.fields.n.min", `want a number, got "ten"`},
		{"NaN bound", strings.Replace(base, "n:  {type: int}", "n:  {type: double, min: NaN}", 1), 12, "silver.events.fields.n.min", `want a finite number, got "NaN"`},
		{"infinite bound", strings.Replace(base, "n:  {type: int}", "n:  {type: double, max: Infinity}", 1), 12, "silver.events.fields.n.max", `want a finite number, got "Infinity"`},
		{"negative infinite bound", strings.Replace(base, "n:  {type: int}", "n:  {type: double, min: -inf}", 1), 12, "silver.events.fields.n.min", `want a finite number, got "-inf"`},
		{"YAML infinity", strings.Replace(base, "n:  {type: int}", "n:  {type: double, max: .inf}", 1), 12, "silver.events.fields.n.max", `got ".inf"`},
		{"bad bool", strings.Replace(base, "required: true}\n      ts", "required: yes please}\n      ts", 1), 10, "silver.events.fields.id.required", "want true or false"},
		{"bad duration", strings.Replace(base, "events: {}", "events: {grace: soon}", 1), 3, "streams.events.grace", "want a duration"},
		{"list where mapping", "kafka: [a]\n", 1, "kafka", "want a mapping"},
		{"unknown stream", strings.Replace(base, "source: events", "source: clicks", 1), 8, "silver.events.source", `unknown stream "clicks" (streams: events)`},
		{"unknown type", strings.Replace(base, "{type: int}", "{type: integer}", 1), 12, "silver.events.fields.n.type", `unknown type "integer"`},
		{"key not a field", strings.Replace(base, "key: [id]", "key: [event_id]", 1), 13, "silver.events.key", `key field "event_id" is not a declared field`},
		{"event time not a timestamp", strings.Replace(base, "event_time: ts", "event_time: n", 1), 14, "silver.events.event_time", "must name a required timestamp field"},
		{"min on a string", strings.Replace(base, "id: {type: string, required: true}", "id: {type: string, required: true, min: 1}", 1), 10, "silver.events.fields.id", "min and max apply to numbers"},
		{"bad pattern", strings.Replace(base, "id: {type: string, required: true}", "id: {type: string, required: true, pattern: \"(\"}", 1), 10, "silver.events.fields.id.pattern", "bad regular expression"},
		{"unknown ref", base + "    enrich:\n      - {ref: people, on: id, columns: [x]}\n", 16, "silver.events.enrich[0].ref", `unknown reference table "people"`},
		{"unknown as_of", base + "    enrich:\n      - {ref: users, on: id, columns: [x], as_of: ingest_time}\n", 16, "silver.events.enrich[0].as_of", `as_of is "ingest_time", want current or event_time`},
		{"unknown on_missing", base + "    enrich:\n      - {ref: users, on: id, columns: [x], on_missing: drop}\n", 16, "silver.events.enrich[0].on_missing", `on_missing is "drop", want keep or quarantine`},
		{"point in time on another key", strings.Replace(base, "users: {file: users.csv}", "users: {file: users.csv, key: uid}", 1) + "    enrich:\n      - {ref: users, on: id, columns: [x], as_of: event_time}\n", 16, "silver.events.enrich[0].as_of", `reference users needs key: id (it has "uid")`},
		{"valid_from without valid_to", strings.Replace(base, "users: {file: users.csv}", "users: {file: users.csv, key: id, valid_from: since}", 1), 5, "reference.users", "valid_from: and valid_to: go together"},
		{"validity without a key", strings.Replace(base, "users: {file: users.csv}", "users: {file: users.csv, valid_from: since, valid_to: until}", 1), 5, "reference.users", "needs a key"},
		{"enrich column clash", base + "    enrich:\n      - {ref: users, on: id, columns: [n]}\n", 16, "silver.events.enrich[0].columns", `column "n" already exists`},
		{"reserved field", strings.Replace(base, "n:  {type: int}", "event_date: {type: date}", 1), 12, "silver.events.fields.event_date", "reserved"},
		{"topic to unknown stream", base + "kafka:\n  topics: {clicks: click_stream}\n", 16, "kafka.topics.clicks", `unknown stream "click_stream"`},
		{"duplicate name", strings.Replace(base, "      n:  {type: int}", "      n:  {type: int}\n      n:  {type: double}", 1), 13, "silver.events.fields.n", "name given twice"},
		{"yaml syntax", "silver: [\n", 1, "", "YAML syntax"},
		{"second document", base + "---\nstreams: {clicks: {}}\n", 16, "", "second YAML document"},
		{"duplicate key field", strings.Replace(base, "key: [id]", "key: [id, ts, id]", 1), 13, "silver.events.key", `key field "id" given twice`},
		{"scalar for a list", strings.Replace(base, "n:  {type: int}", "n:  {type: string, in: \"a\"}", 1), 12, "silver.events.fields.n.in", `want a list, got "a"`},
		{"scalar key", strings.Replace(base, "key: [id]", "key: id", 1), 13, "silver.events.key", `want a list, got "id"`},
		{"from with a quote", strings.Replace(base, "n:  {type: int}", "n:  {type: int, from: 'a\"b'}", 1), 12, "silver.events.fields.n.from", "quotes or backslashes"},
		{"two fields from one key", strings.Replace(base, "n:  {type: int}", "n:  {type: int, from: id}", 1), 12, "silver.events.fields.n.from", `JSON key "id" is already read by field id`},
		{"bad table name", strings.Replace(base, "silver:\n  events:", "silver:\n  Events-2:", 1), 7, "silver.Events-2", `bad name "Events-2"`},
		{"s3 store without a bucket", "store: \"s3://\"\n" + base, 1, "store", `"s3://" names no bucket`},
		{"s3 store without a bucket, long form", "store:\n  region: eu\n  url: s3://\n" + base, 3, "store.url", "names no bucket"},
		{"store URL without its slashes", "store: \"s3:\"\n" + base, 1, "store", `without its "//": write s3://`},
		{"store URL of an unknown scheme", "store: gs://bucket/lake\n" + base, 1, "store", `unknown scheme "gs"`},
		{"consumer without freshness", base + "consumers:\n  ops:\n    reads: [views.kpis]\n", 16, "consumers.ops", "missing freshness"},
		{"consumer reads a bare name", base + "consumers:\n  ops:\n    reads: [kpis]\n    freshness: 2m\n", 17, "consumers.ops.reads", `consumer reads "kpis": not views.NAME or gold.NAME`},
		{"consumer reads silver", base + "consumers:\n  ops:\n    reads: [silver.events]\n    freshness: 2m\n", 17, "consumers.ops.reads", "not views.NAME or gold.NAME"},
		{"consumer warns above breach", base + "consumers:\n  ops: {reads: [views.kpis], freshness: 2m, warn: 3m}\n", 16, "consumers.ops.warn", "warn 3m0s is above breach 2m0s"},
		{"consumer's freshness not a duration", base + "consumers:\n  ops: {reads: [views.kpis], freshness: fast}\n", 16, "consumers.ops.freshness", "want a duration"},
		{"bad cache size", "store:\n  cache_size: lots\n" + base, 2, "store.cache_size", `size "lots": want a number and a unit`},
		{"negative idle sessions", base + "serve:\n  pg:\n    idle_sessions: -1\n", 17, "serve.pg.idle_sessions", "idle_sessions -1 is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("dir/lakectl.yaml", []byte(tt.yaml), Overrides{})
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("err = %v, want a *pipeline.Error", err)
			}
			if perr.File != "dir/lakectl.yaml" || perr.Line != tt.wantLine || perr.Key != tt.wantKey || !strings.Contains(perr.Msg, tt.wantMsg) {
				t.Errorf("got  %s (line %d, key %q)\nwant dir/lakectl.yaml:%d: %s: ...%s...", perr, perr.Line, perr.Key, tt.wantLine, tt.wantKey, tt.wantMsg)
			}
		})
	}
}

// TestCacheSize: store.cache_size in bytes, 0 (the cache's default) when absent.
func TestCacheSize(t *testing.T) {
	for _, tt := range []struct {
		yaml string
		want int64
	}{{"", 0}, {"store:\n  cache_size: 50GiB\n", 50 << 30}} {
		p, err := Parse("lakectl.yaml", []byte(tt.yaml+base), Overrides{})
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Store.CacheBytes(); got != tt.want {
			t.Errorf("%q: cache bytes %d, want %d", tt.yaml, got, tt.want)
		}
	}
}

// TestIdleSessions: serve.pg.idle_sessions absent is the default, 0 is none.
func TestIdleSessions(t *testing.T) {
	for _, tt := range []struct {
		yaml string
		want *int
	}{{"", nil}, {"serve:\n  pg:\n    idle_sessions: 0\n", new(0)}, {"serve:\n  pg:\n    idle_sessions: 20\n", new(20)}} {
		p, err := Parse("lakectl.yaml", []byte(base+tt.yaml), Overrides{})
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Serve.PG.IdleSessions; (got == nil) != (tt.want == nil) || got != nil && *got != *tt.want {
			t.Errorf("%q: idle_sessions = %v, want %v", tt.yaml, got, tt.want)
		}
	}
}

func TestOverridePrecedence(t *testing.T) {
	file := "store: s3://from-file/lake\nkafka: {brokers: [file:9092], group: file}\nduckdb: {threads: 1}\n"
	env := map[string]string{
		"LAKECTL_LAKE":           "s3://from-env/lake",
		"LAKECTL_BROKERS":        "env1:9092,env2:9092",
		"LAKECTL_DUCKDB_THREADS": "3",
	}
	tests := []struct {
		name        string
		ov          Overrides
		wantStore   string
		wantBrokers string
		wantGroup   string
		wantThreads int
	}{
		{"file only", Overrides{}, "s3://from-file/lake", "file:9092", "file", 1},
		{"env over file", Overrides{Env: mapEnv(env)}, "s3://from-env/lake", "env1:9092,env2:9092", "file", 3},
		{"flag over env", Overrides{Env: mapEnv(env), Store: "s3://from-flag/lake", KafkaGroup: "flag", Threads: 2},
			"s3://from-flag/lake", "env1:9092,env2:9092", "flag", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse("/p/lakectl.yaml", []byte(file), tt.ov)
			if err != nil {
				t.Fatal(err)
			}
			if p.Store.URL != tt.wantStore || strings.Join(p.Kafka.Brokers, ",") != tt.wantBrokers ||
				p.Kafka.Group != tt.wantGroup || p.DuckDB.Threads != tt.wantThreads {
				t.Errorf("got store=%s brokers=%v group=%s threads=%d, want %s %s %s %d",
					p.Store.URL, p.Kafka.Brokers, p.Kafka.Group, p.DuckDB.Threads,
					tt.wantStore, tt.wantBrokers, tt.wantGroup, tt.wantThreads)
			}
		})
	}
	for want, ov := range map[string]Overrides{
		`command line: --lake: lake URL "s3:"`:      {Store: "s3:"},
		`environment: LAKECTL_LAKE: s3 URL "s3://"`: {Env: mapEnv(map[string]string{"LAKECTL_LAKE": "s3://"})},
	} {
		if _, err := Parse("/p/lakectl.yaml", []byte(file), ov); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("bad lake URL: err = %v, want one starting %q", err, want)
		}
	}
	if _, err := Parse("/p/lakectl.yaml", []byte(file), Overrides{Env: mapEnv(map[string]string{"LAKECTL_DUCKDB_THREADS": "many"})}); err == nil ||
		!strings.Contains(err.Error(), "LAKECTL_DUCKDB_THREADS") {
		t.Errorf("bad LAKECTL_DUCKDB_THREADS: err = %v, want an error naming the variable", err)
	}
}

// TestGraces checks the one sealing rule: each stream's own grace, which --grace or
// LAKECTL_GRACE replace for every stream, declared or not.
func TestGraces(t *testing.T) {
	const file = "streams:\n  fast: {grace: 1m}\n  slow: {grace: 30m}\n  plain: {}\n"
	for _, tt := range []struct {
		name string
		ov   Overrides
		want map[string]time.Duration
	}{
		{"file", Overrides{}, map[string]time.Duration{"fast": time.Minute, "slow": 30 * time.Minute, "plain": 5 * time.Minute, "undeclared": 5 * time.Minute}},
		{"variable", Overrides{Env: mapEnv(map[string]string{"LAKECTL_GRACE": "2m"})},
			map[string]time.Duration{"fast": 2 * time.Minute, "slow": 2 * time.Minute, "undeclared": 2 * time.Minute}},
		{"flag over variable", Overrides{Grace: 3 * time.Minute, Env: mapEnv(map[string]string{"LAKECTL_GRACE": "2m"})},
			map[string]time.Duration{"fast": 3 * time.Minute, "undeclared": 3 * time.Minute}},
	} {
		p, err := Parse("/p/lakectl.yaml", []byte(file), tt.ov)
		if err != nil {
			t.Fatal(err)
		}
		for stream, want := range tt.want {
			if got := p.Graces().Of(stream); got != want {
				t.Errorf("%s: grace of %s = %v, want %v", tt.name, stream, got, want)
			}
		}
	}
	if _, err := Parse("/p/lakectl.yaml", []byte(file), Overrides{Env: mapEnv(map[string]string{"LAKECTL_GRACE": "5"})}); err == nil ||
		!strings.Contains(err.Error(), "LAKECTL_GRACE") {
		t.Errorf("bad LAKECTL_GRACE: err = %v, want an error naming the variable", err)
	}
}

func TestStoreURL(t *testing.T) {
	for in, want := range map[string]string{
		"lake":               "file:///p/lake",
		"file://./data/lake": "file:///p/data/lake",
		"file:///abs/lake":   "file:///abs/lake",
		"/abs/lake":          "file:///abs/lake",
		"s3://bucket/prefix": "s3://bucket/prefix",
		"mem://unit":         "mem://unit",
	} {
		p, err := Parse("/p/lakectl.yaml", []byte("store: "+in+"\n"), Overrides{})
		if err != nil {
			t.Fatal(err)
		}
		if p.Store.URL != want {
			t.Errorf("store %q resolves to %q, want %q", in, p.Store.URL, want)
		}
	}
}

func mapEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// TestStoreURLFromOutsideIsRelativeToWorkingDirectory: a relative path in lakectl.yaml
// is relative to the pipeline directory, but one given as --lake or LAKECTL_LAKE is
// relative to where the command runs, as `lakectl ingest --lake` takes it, so that
// one environment names one lake for every command.
func TestStoreURLFromOutsideIsRelativeToWorkingDirectory(t *testing.T) {
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	want := "file://" + filepath.Join(cwd, "here", "lake")
	for name, ov := range map[string]Overrides{
		"flag":     {Store: "here/lake"},
		"variable": {Env: mapEnv(map[string]string{"LAKECTL_LAKE": "./here/lake"})},
	} {
		p, err := Parse("/p/lakectl.yaml", []byte("store: lake\n"), ov)
		if err != nil {
			t.Fatal(err)
		}
		if p.Store.URL != want {
			t.Errorf("%s: store resolves to %q, want %q", name, p.Store.URL, want)
		}
	}
}

// TestCheckName: one rule for every name that becomes a table path or a SQL
// identifier, used by the loader and by commands that take a name.
func TestCheckName(t *testing.T) {
	for name, ok := range map[string]bool{
		"users": true, "users_2026": true, "u": true,
		"": false, "Users": false, "2users": false, "_users": false, "users-eu": false,
		"users.csv": false, "../users": false, "ref/users": false, `a"b`: false, "ü": false,
	} {
		err := CheckName("reference table", name)
		if (err == nil) != ok {
			t.Errorf("CheckName(%q) = %v, want ok=%v", name, err, ok)
		}
		if err != nil && !strings.Contains(err.Error(), "reference table") {
			t.Errorf("CheckName(%q) = %v, want it to say what was named", name, err)
		}
	}
}

// TestEnrichDefaults: an enrichment joins at the current time and keeps rows without
// a match unless it says otherwise, and a reference's key defaults to the ref_key of
// the enrichments that join it.
func TestEnrichDefaults(t *testing.T) {
	p, err := Parse("dir/lakectl.yaml", []byte(base+"    enrich:\n      - {ref: users, on: id, columns: [x]}\n"), Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	e := p.Table("events").Enrich[0]
	if e.AsOf != AsOfCurrent || e.OnMissing != MissingKeep || p.Ref("users").Key != "id" {
		t.Errorf("as_of %q, on_missing %q, reference key %q; want current, keep, id", e.AsOf, e.OnMissing, p.Ref("users").Key)
	}
}
