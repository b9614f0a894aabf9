package pipeline

import (
	"cmp"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/lakectl/lakectl/lake/storeurl"
)

// Overrides are the settings that may come from outside lakectl.yaml. Precedence, from
// strongest to weakest: a flag that was set, then a LAKECTL_* variable, then the file,
// then the built-in default.
//
//	flag                 variable                     key in lakectl.yaml
//	--lake URL           LAKECTL_LAKE                 store.url
//	--brokers A,B        LAKECTL_BROKERS              kafka.brokers
//	--group G            LAKECTL_GROUP                kafka.group
//	--http ADDR          LAKECTL_HTTP                 http.listen
//	--memory-limit M     LAKECTL_DUCKDB_MEMORY_LIMIT  duckdb.memory_limit
//	--threads N          LAKECTL_DUCKDB_THREADS       duckdb.threads
//	--grace D            LAKECTL_GRACE                streams.*.grace (every stream)
//	                     LAKECTL_S3_ENDPOINT          store.endpoint
//	                     LAKECTL_S3_REGION            store.region
//
// The names match the flags of the commands that run without a pipeline file
// (lakectl ingest, status), so one environment serves both.
//
// The pipeline directory itself comes from --pipeline, then LAKECTL_PIPELINE, then ".".
type Overrides struct {
	// Env looks up environment variables; os.Getenv in the CLI, nil for none.
	Env func(string) string

	Store        string
	KafkaBrokers []string
	KafkaGroup   string
	Listen       string
	MemoryLimit  string
	Threads      int
	// Grace replaces the grace of every stream, declared or not (see Graces).
	Grace time.Duration
}

// Register adds the flags that every pipeline command takes (--lake, --memory-limit,
// --threads) to fs, binding them to o. Commands that talk to Kafka or serve HTTP add
// their own flags for KafkaBrokers, KafkaGroup and Listen.
func (o *Overrides) Register(fs *pflag.FlagSet) {
	fs.StringVar(&o.Store, "lake", "", "lake URL (a path, file:///path, s3://bucket/prefix); overrides store.url and $LAKECTL_LAKE")
	fs.StringVar(&o.MemoryLimit, "memory-limit", "", "DuckDB memory limit, e.g. 4GiB; overrides duckdb.memory_limit")
	fs.IntVar(&o.Threads, "threads", 0, "DuckDB threads; overrides duckdb.threads")
}

// Dir returns the pipeline directory: flag, then LAKECTL_PIPELINE, then ".".
func (o Overrides) Dir(flag string) string {
	if flag != "" {
		return flag
	}
	if o.Env != nil {
		if d := o.Env("LAKECTL_PIPELINE"); d != "" {
			return d
		}
	}
	return "."
}

func (o Overrides) apply(p *Pipeline) error {
	env := func(string) string { return "" }
	if o.Env != nil {
		env = o.Env
	}
	str := func(dst *string, flag, variable string) {
		if v := env(variable); v != "" {
			*dst = v
		}
		if flag != "" {
			*dst = flag
		}
	}
	if u := cmp.Or(o.Store, env("LAKECTL_LAKE")); u != "" {
		if err := storeurl.Check(u); err != nil {
			from, key := "environment", "LAKECTL_LAKE"
			if o.Store != "" {
				from, key = "command line", "--lake"
			}
			return &Error{File: from, Key: key, Msg: err.Error()}
		}
		// A path typed on the command line or set in the environment is relative to
		// the working directory, as `lakectl ingest --lake` takes it; only paths in
		// lakectl.yaml are relative to the pipeline directory.
		p.Store.URL = fromWorkingDir(u)
	}
	str(&p.Store.Endpoint, "", "LAKECTL_S3_ENDPOINT")
	str(&p.Store.Region, "", "LAKECTL_S3_REGION")
	str(&p.Kafka.Group, o.KafkaGroup, "LAKECTL_GROUP")
	str(&p.HTTP.Listen, o.Listen, "LAKECTL_HTTP")
	str(&p.DuckDB.MemoryLimit, o.MemoryLimit, "LAKECTL_DUCKDB_MEMORY_LIMIT")
	if v := env("LAKECTL_BROKERS"); v != "" {
		p.Kafka.Brokers = strings.Split(v, ",")
	}
	if len(o.KafkaBrokers) > 0 {
		p.Kafka.Brokers = o.KafkaBrokers
	}
	if v := env("LAKECTL_DUCKDB_THREADS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return &Error{File: "environment", Key: "LAKECTL_DUCKDB_THREADS", Msg: "want a whole number, got " + strconv.Quote(v)}
		}
		p.DuckDB.Threads = n
	}
	if o.Threads > 0 {
		p.DuckDB.Threads = o.Threads
	}
	if v := env("LAKECTL_GRACE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return &Error{File: "environment", Key: "LAKECTL_GRACE", Msg: "want a positive duration such as 5m, got " + strconv.Quote(v)}
		}
		p.grace = d
	}
	if o.Grace > 0 {
		p.grace = o.Grace
	}
	if p.grace > 0 {
		for i := range p.Streams {
			p.Streams[i].Grace = p.grace
		}
	}
	return nil
}

// fromWorkingDir makes a relative file path or file:// URL absolute against the
// working directory; other URLs are returned as they are.
func fromWorkingDir(u string) string {
	if scheme, _, ok := strings.Cut(u, "://"); ok && scheme != "file" {
		return u
	}
	path := strings.TrimPrefix(u, "file://")
	if filepath.IsAbs(path) {
		return u
	}
	if abs, err := filepath.Abs(path); err == nil {
		return "file://" + abs
	}
	return u
}
