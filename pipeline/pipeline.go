// Package pipeline loads a pipeline directory: lakectl.yaml (the store, Kafka, the
// Bronze streams, the Silver contracts, reference tables and consumers) and the files
// beside it (reference/*, models/*.sql, views/*.sql).
//
//	p, err := pipeline.Load("./my-pipeline", pipeline.Overrides{Env: os.Getenv})
//	if err != nil {
//		return err // a *pipeline.Error naming file, line and key
//	}
//	events := p.Table("events")
//
// Parsing is strict: an unknown key, a value of the wrong type, a Silver table whose
// source is not a declared stream and the like are errors that name the file, the line
// and the dotted key. Values are taken, from weakest to strongest, from the built-in
// defaults, lakectl.yaml, LAKECTL_* environment variables, and command-line flags (see
// Overrides).
package pipeline

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/lakectl/lakectl/bronze/layout"
)

// FileName is the pipeline file inside a pipeline directory.
const FileName = "lakectl.yaml"

// Pipeline is a loaded, validated pipeline directory.
type Pipeline struct {
	Dir  string `yaml:"-"` // absolute path of the pipeline directory
	File string `yaml:"-"` // path of lakectl.yaml as given (used in error messages)

	Store     Store       `yaml:"store"`
	Kafka     Kafka       `yaml:"kafka"`
	HTTP      HTTP        `yaml:"http"`
	DuckDB    DuckDB      `yaml:"duckdb"`
	Streams   []Stream    `yaml:"streams"`
	Silver    []Table     `yaml:"silver"`
	Reference []Reference `yaml:"reference"`
	Consumers []Consumer  `yaml:"consumers"`
	Serve     Serve       `yaml:"serve"`

	lines map[string]int // dotted key -> line in File
	grace time.Duration  // --grace or LAKECTL_GRACE, for every stream; 0 when not given
}

// Store says where the lake lives.
type Store struct {
	// URL is file:///abs/path, s3://bucket/prefix or mem://name. A plain path, or
	// file:// with a relative path, is taken relative to the pipeline directory.
	// Default: ./lake in the pipeline directory. After Load it is always absolute.
	URL string `yaml:"url,short"`
	// S3 options; the standard AWS_* variables fill what is not set.
	Endpoint  string `yaml:"endpoint"`
	Region    string `yaml:"region"`
	PathStyle bool   `yaml:"path_style"`
	// CacheDir holds local copies of remote data files for DuckDB. Default: the
	// user's cache directory.
	CacheDir string `yaml:"cache_dir"`
	// CacheSize bounds the cache (ParseBytes: 50GiB, 500MB); least recently used
	// files are evicted past it. Default: 10 GiB.
	CacheSize string `yaml:"cache_size"`
}

// CacheBytes is CacheSize in bytes, 0 for the default. Load has checked it.
func (s Store) CacheBytes() int64 {
	n, _ := ParseBytes(s.CacheSize)
	return n
}

// Kafka configures the Bronze ingest consumer group.
type Kafka struct {
	Brokers []string `yaml:"brokers"`
	Group   string   `yaml:"group"` // default "lakectl"
	// Topics maps each topic to the stream (Bronze table) its records go to.
	Topics map[string]string `yaml:"topics"`
}

// HTTP configures the HTTP endpoints (ingest, views, status).
type HTTP struct {
	Listen string `yaml:"listen"` // default ":8080"
	// Timeouts of HTTP ingest (bronze.HTTPConfig): headers, the whole body, a pause
	// in a body, an idle keep-alive connection. Default 10s, 10s, 5s and 1m.
	HeaderTimeout time.Duration `yaml:"header_timeout"`
	BodyTimeout   time.Duration `yaml:"body_timeout"`
	StallTimeout  time.Duration `yaml:"stall_timeout"`
	IdleTimeout   time.Duration `yaml:"idle_timeout"`
}

// DuckDB tunes every DuckDB session that lakectl opens.
type DuckDB struct {
	MemoryLimit string `yaml:"memory_limit"` // e.g. "4GiB"; default: half of the memory available (engine.DefaultMemoryLimit)
	Threads     int    `yaml:"threads"`      // default: the number of CPUs
	TempDir     string `yaml:"temp_dir"`     // where large jobs spill (each session in a directory of its own under it); default: the system temp directory
}

// Stream is one Bronze table, bronze/<name>.
type Stream struct {
	Name string `yaml:"-"`
	// Grace is how long after the end of an ingest hour late records may still arrive
	// before the hour counts as sealed: hour H of this stream is sealed once every
	// mark of its Bronze table has passed H+1h+Grace. Default 5m (layout.DefaultGrace).
	Grace time.Duration `yaml:"grace"`
	// FlushInterval bounds how long a record waits in an open file. Default 10s.
	FlushInterval time.Duration `yaml:"flush_interval"`
}

// Table is a Silver contract: silver/<name>, with rejected rows in quarantine/<name>.
type Table struct {
	Name        string   `yaml:"-"`
	Description string   `yaml:"description"`
	Source      string   `yaml:"source"` // the stream whose payloads are parsed
	Fields      []Field  `yaml:"fields"` // in column order
	Key         []string `yaml:"key"`    // fields that identify an event; dedupe key
	EventTime   string   `yaml:"event_time"`
	Enrich      []Enrich `yaml:"enrich"`
}

// Field is one column parsed from the JSON payload, with its checks.
type Field struct {
	Name     string   `yaml:"-"`
	From     string   `yaml:"from"` // JSON key when it differs from Name
	Type     string   `yaml:"type"` // see Types
	Required bool     `yaml:"required"`
	Min      *float64 `yaml:"min"`     // numbers only, inclusive
	Max      *float64 `yaml:"max"`     // numbers only, inclusive
	In       []string `yaml:"in"`      // allowed values (strings and integers)
	Pattern  string   `yaml:"pattern"` // regular expression a string must match
}

// JSONKey is the key of the field in the payload.
func (f Field) JSONKey() string {
	if f.From != "" {
		return f.From
	}
	return f.Name
}

// Enrich joins a reference table on one field and adds some of its columns.
type Enrich struct {
	Ref     string   `yaml:"ref"`     // reference table name, ref/<name>
	On      string   `yaml:"on"`      // the Silver field to join on
	RefKey  string   `yaml:"ref_key"` // the reference column; default: same as On
	Columns []string `yaml:"columns"` // reference columns added to Silver
	// AsOf is the time the join reads the reference at: AsOfCurrent (the default)
	// joins the reference's current rows, AsOfEventTime the row that was valid at
	// the event's time, so re-running an old hour gives the rows of its first run.
	AsOf string `yaml:"as_of"`
	// OnMissing is what happens to an event whose key has no reference row:
	// MissingKeep (the default) stores it with empty enrichment columns and names the
	// reference in its _missing_refs column, MissingQuarantine quarantines it.
	OnMissing string `yaml:"on_missing"`
}

// Values of Enrich.AsOf and Enrich.OnMissing.
const (
	AsOfCurrent       = "current"
	AsOfEventTime     = "event_time"
	MissingKeep       = "keep"
	MissingQuarantine = "quarantine"
)

// Reference is a reference table loaded from a file with `lakectl ref load`.
type Reference struct {
	Name        string `yaml:"-"`
	Description string `yaml:"description"`
	File        string `yaml:"file"` // CSV or Parquet, relative to the pipeline directory
	// Key is the column that identifies a row; two rows of one key may not be valid
	// at the same time. Default: the ref_key of the enrichments that join this table,
	// when they all use the same one.
	Key string `yaml:"key"`
	// ValidFrom and ValidTo name the file's validity columns when it is a slowly
	// changing dimension of type 2 (each row valid from ValidFrom up to, not
	// including, ValidTo; an empty ValidTo is open). Both or neither. Without them
	// each load is a snapshot valid from its load time.
	ValidFrom string `yaml:"valid_from"`
	ValidTo   string `yaml:"valid_to"`
}

// Consumer is someone who reads views or Gold tables and needs them fresh.
// Freshness is end to end: now minus the newest event time T such that every event
// up to T is reflected in what the consumer reads.
type Consumer struct {
	Name string `yaml:"-"`
	// Reads are the tables it reads: views.<name> or gold.<name>.
	Reads []string `yaml:"reads"`
	// Freshness is the SLO: the oldest the consumer's data may be. Required.
	Freshness time.Duration `yaml:"freshness"`
	// Warn and Breach are the levels that lakectl status reports: ok up to Warn, warn
	// up to Breach, breach beyond. Default: three quarters of Freshness, and
	// Freshness.
	Warn   time.Duration `yaml:"warn"`
	Breach time.Duration `yaml:"breach"`
	// Token is the consumer's bearer token for lakectl serve: it reads only Reads.
	// LAKECTL_TOKEN_<NAME> (upper case, - as _) overrides it. Default: none.
	Token string `yaml:"token"`
}

// Serve configures lakectl serve.
type Serve struct {
	// MetricsToken, when set, is the bearer token that /metrics requires.
	// LAKECTL_METRICS_TOKEN overrides it. Default: /metrics is open.
	MetricsToken string `yaml:"metrics_token"`
	// PG configures the Postgres port (serve --pg).
	PG ServePG `yaml:"pg"`
}

// ServePG configures serve's Postgres port. Passwords never cross the network
// (SCRAM-SHA-256); TLS keeps queries and results private too.
type ServePG struct {
	// TLSCert and TLSKey are PEM files (relative to the pipeline directory) of the
	// port's certificate and key. Given, every connection must use TLS.
	// --pg-tls-cert, --pg-tls-key (LAKECTL_PG_TLS_CERT, LAKECTL_PG_TLS_KEY) override
	// them. Default: none.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// AllowUnencrypted lets the port listen beyond loopback without TLS, where
	// queries and their results cross the network unencrypted (passwords never do:
	// SCRAM-SHA-256). Default: false, and serve refuses to start so.
	AllowUnencrypted bool `yaml:"allow_unencrypted"`
	// IdleSessions bounds the DuckDB sessions kept between queries, so that the next
	// query of the same consumer over the same table versions skips registering its
	// tables; each holds up to duckdb.memory_limit and pins its files in the cache for
	// up to 5 minutes unused. 0: none. Default: 8 per CPU.
	IdleSessions *int `yaml:"idle_sessions"`
}

// Load reads and validates the pipeline at path, a directory holding lakectl.yaml or
// the file itself, then applies ov on top.
func Load(path string, ov Overrides) (*Pipeline, error) {
	file := path
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		file = filepath.Join(path, FileName)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, &Error{File: file, Msg: fmt.Sprintf("read pipeline: %v", err),
			hint: "pass the pipeline directory with --pipeline, or create one with `lakectl init DIR`"}
	}
	return Parse(file, data, ov)
}

// Parse is Load for a file already in memory; file names it in errors and anchors
// relative paths.
func Parse(file string, data []byte, ov Overrides) (*Pipeline, error) {
	doc, err := oneDocument(file, data)
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(filepath.Dir(file))
	if err != nil {
		return nil, fmt.Errorf("pipeline directory of %s: %w", file, err)
	}
	p := &Pipeline{Dir: dir, File: file}
	d := &decoder{file: file, lines: map[string]int{}}
	if err := d.decode(doc, reflectValue(p), ""); err != nil {
		return nil, err
	}
	p.lines = d.lines
	if err := p.checkStore(); err != nil {
		return nil, err
	}
	if err := ov.apply(p); err != nil {
		return nil, err
	}
	p.defaults()
	if err := p.validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// oneDocument parses data as exactly one YAML document: a second one after "---"
// would otherwise be ignored without a word.
func oneDocument(file string, data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, syntaxError(file, err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
		return &doc, nil
	case err != nil:
		return nil, syntaxError(file, err)
	}
	line := next.Line
	if len(next.Content) > 0 {
		line = next.Content[0].Line
	}
	return nil, &Error{File: file, Line: line, Msg: "a second YAML document: " + FileName + " holds one",
		hint: "merge it into the first document, or remove the --- line"}
}

// syntaxError turns yaml.v3's "yaml: line 3: ..." into an Error with the line.
func syntaxError(file string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var line int
	if n, _ := fmt.Sscanf(msg, "line %d:", &line); n == 1 {
		_, msg, _ = strings.Cut(msg, ": ")
	}
	return &Error{File: file, Line: line, Msg: "YAML syntax: " + msg}
}

func (p *Pipeline) defaults() {
	if p.Store.URL == "" {
		p.Store.URL = "lake"
	}
	p.Store.URL = p.absURL(p.Store.URL)
	if p.Kafka.Group == "" {
		p.Kafka.Group = "lakectl"
	}
	if p.HTTP.Listen == "" {
		p.HTTP.Listen = ":8080"
	}
	for i := range p.Streams {
		s := &p.Streams[i]
		if s.Grace == 0 {
			s.Grace = layout.DefaultGrace
		}
		if s.FlushInterval == 0 {
			s.FlushInterval = 10 * time.Second
		}
	}
	for i := range p.Consumers {
		c := &p.Consumers[i]
		if c.Breach == 0 {
			c.Breach = c.Freshness
		}
		if c.Warn == 0 {
			c.Warn = c.Freshness * 3 / 4
		}
	}
	for i := range p.Silver {
		for j := range p.Silver[i].Enrich {
			e := &p.Silver[i].Enrich[j]
			if e.RefKey == "" {
				e.RefKey = e.On
			}
			if e.AsOf == "" {
				e.AsOf = AsOfCurrent
			}
			if e.OnMissing == "" {
				e.OnMissing = MissingKeep
			}
		}
	}
	for i := range p.Reference {
		r := &p.Reference[i]
		if r.Key == "" {
			r.Key = p.joinKey(r.Name)
		}
	}
}

// joinKey is the ref_key that every enrichment joining reference name uses, or ""
// when none joins it or they differ.
func (p *Pipeline) joinKey(name string) string {
	key := ""
	for _, t := range p.Silver {
		for _, e := range t.Enrich {
			if e.Ref != name {
				continue
			}
			if key != "" && key != e.RefKey {
				return ""
			}
			key = e.RefKey
		}
	}
	return key
}

// absURL makes a plain or relative file URL absolute against the pipeline directory.
func (p *Pipeline) absURL(u string) string {
	if scheme, _, ok := strings.Cut(u, "://"); ok && scheme != "file" {
		return u
	}
	path := strings.TrimPrefix(u, "file://")
	if !filepath.IsAbs(path) {
		path = filepath.Join(p.Dir, path)
	}
	return "file://" + filepath.Clean(path)
}

// Path resolves a file name from lakectl.yaml against the pipeline directory.
func (p *Pipeline) Path(name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(p.Dir, name)
}

// Stream returns the stream called name, or nil.
func (p *Pipeline) Stream(name string) *Stream {
	for i := range p.Streams {
		if p.Streams[i].Name == name {
			return &p.Streams[i]
		}
	}
	return nil
}

// Graces is the sealing rule of this pipeline (see layout.Graces): each declared
// stream's grace, and for a stream lakectl.yaml does not declare, --grace or
// $LAKECTL_GRACE when given, else layout.DefaultGrace. Every command that decides
// whether an hour is sealed takes it from here.
func (p *Pipeline) Graces() layout.Graces {
	g := layout.Graces{Default: p.grace, Streams: map[string]time.Duration{}}
	for _, s := range p.Streams {
		g.Streams[s.Name] = s.Grace
	}
	return g
}

// Table returns the Silver table called name, or nil.
func (p *Pipeline) Table(name string) *Table {
	for i := range p.Silver {
		if p.Silver[i].Name == name {
			return &p.Silver[i]
		}
	}
	return nil
}

// Ref returns the reference table called name, or nil.
func (p *Pipeline) Ref(name string) *Reference {
	for i := range p.Reference {
		if p.Reference[i].Name == name {
			return &p.Reference[i]
		}
	}
	return nil
}

// Field returns the field called name, or nil.
func (t *Table) Field(name string) *Field {
	for i := range t.Fields {
		if t.Fields[i].Name == name {
			return &t.Fields[i]
		}
	}
	return nil
}

// Line returns the line of the dotted key in the pipeline file, 0 if unknown.
func (p *Pipeline) Line(key string) int { return p.lines[key] }

func (p *Pipeline) errorf(key, hint, format string, args ...any) *Error {
	return &Error{File: p.File, Line: p.lines[key], Key: key, Msg: fmt.Sprintf(format, args...), hint: hint}
}

// OpenURL is the URL to open the store with: URL, plus for s3:// the endpoint, region
// and path_style of lakectl.yaml as query parameters (which lake/stores reads), unless
// the URL already carries them.
func (s Store) OpenURL() string {
	u, err := url.Parse(s.URL)
	if err != nil || u.Scheme != "s3" {
		return s.URL
	}
	q := u.Query()
	set := func(k, v string) {
		if v != "" && !q.Has(k) {
			q.Set(k, v)
		}
	}
	set("endpoint", s.Endpoint)
	set("region", s.Region)
	if s.PathStyle {
		set("path_style", "true")
	}
	u.RawQuery = q.Encode()
	return u.String()
}
