package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/lakectl/lakectl/bronze"
	"github.com/lakectl/lakectl/lake/storeurl"
	"github.com/lakectl/lakectl/pipeline"
)

// findPipeline loads the pipeline that a service command (ingest, status) should read:
// --pipeline, else $LAKECTL_PIPELINE, else ./lakectl.yaml when there is one. It
// returns nil, nil when none was asked for and the working directory has none: those
// commands also run from flags alone. ov carries the flags that were set, so the
// loaded values already follow flag > LAKECTL_* > file > default.
func findPipeline(dir string, ov pipeline.Overrides) (*pipeline.Pipeline, error) {
	ov.Env = os.Getenv
	if dir == "" && os.Getenv("LAKECTL_PIPELINE") == "" {
		if _, err := os.Stat(pipeline.FileName); errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
	}
	return pipeline.Load(ov.Dir(dir), ov)
}

// changed returns the flag's value when it was set on the command line, else "".
func changed(flags *pflag.FlagSet, name, value string) string {
	if flags.Changed(name) {
		return value
	}
	return ""
}

// fromFile reports whether a setting is left to lakectl.yaml: neither its flag nor
// its variable was given.
func fromFile(flags *pflag.FlagSet, flag, variable string) bool {
	return !flags.Changed(flag) && (variable == "" || os.Getenv(variable) == "")
}

// ingestSettings are the values of `lakectl ingest` that lakectl.yaml can supply.
type ingestSettings struct {
	lakeURL, group, httpAddr string
	brokers, httpStreams     []string
	topics                   map[string]string
	flushInterval            time.Duration
	httpTimeouts             bronze.HTTPConfig // the timeouts only
}

// applyPipeline overlays the pipeline's settings on s where no flag or variable gave
// one: store, kafka (brokers, group, topics), http (listen, timeouts), the streams
// (HTTP accepts only declared streams) and their flush interval (with several
// streams, the shortest, since one service serves all). Each stream's grace reaches
// the service through the pipeline's Graces.
// An empty --brokers (given as --brokers=) turns off the file's Kafka.
func applyPipeline(cmd *cobra.Command, p *pipeline.Pipeline, s *ingestSettings) {
	f := cmd.Flags()
	s.lakeURL = p.Store.OpenURL()
	if !f.Changed("brokers") {
		s.brokers = p.Kafka.Brokers
	}
	s.group = p.Kafka.Group
	s.httpAddr = p.HTTP.Listen
	if fromFile(f, "topic", "LAKECTL_TOPICS") && len(p.Kafka.Topics) > 0 {
		s.topics = p.Kafka.Topics
	}
	if fromFile(f, "http-stream", "") {
		s.httpStreams = nil
		for _, st := range p.Streams {
			s.httpStreams = append(s.httpStreams, st.Name)
		}
	}
	var flush time.Duration
	for _, st := range p.Streams {
		if flush == 0 || st.FlushInterval < flush {
			flush = st.FlushInterval
		}
	}
	if flush > 0 && fromFile(f, "flush-interval", "LAKECTL_FLUSH_INTERVAL") {
		s.flushInterval = flush
	}
	for _, t := range []struct {
		file           time.Duration
		dst            *time.Duration
		flag, variable string
	}{
		{p.HTTP.HeaderTimeout, &s.httpTimeouts.HeaderTimeout, "http-header-timeout", "LAKECTL_HTTP_HEADER_TIMEOUT"},
		{p.HTTP.BodyTimeout, &s.httpTimeouts.BodyTimeout, "http-body-timeout", "LAKECTL_HTTP_BODY_TIMEOUT"},
		{p.HTTP.StallTimeout, &s.httpTimeouts.StallTimeout, "http-stall-timeout", "LAKECTL_HTTP_STALL_TIMEOUT"},
		{p.HTTP.IdleTimeout, &s.httpTimeouts.IdleTimeout, "http-idle-timeout", "LAKECTL_HTTP_IDLE_TIMEOUT"},
	} {
		if t.file > 0 && fromFile(f, t.flag, t.variable) {
			*t.dst = t.file
		}
	}
}

// pipelineFlag adds --pipeline to a command that also runs without a pipeline.
func pipelineFlag(cmd *cobra.Command, dir *string) {
	cmd.Flags().StringVarP(dir, "pipeline", "p", "", "pipeline directory or its lakectl.yaml (default $LAKECTL_PIPELINE, else ./lakectl.yaml when present); flags and LAKECTL_* override its settings")
}

// absPath makes a relative lake path absolute against the working directory, so that
// a --lake given next to a pipeline means what it says on the command line.
func absPath(u string) string {
	if u == "" || filepath.IsAbs(u) || hasScheme(u) || storeurl.Check(u) != nil {
		return u // a URL, or one so malformed that the pipeline loader refuses it by name
	}
	if abs, err := filepath.Abs(u); err == nil {
		return abs
	}
	return u
}

func hasScheme(u string) bool {
	for i := 0; i < len(u); i++ {
		switch c := u[i]; {
		case c == ':':
			return i > 0 && len(u) > i+2 && u[i+1:i+3] == "//"
		case c == '/' || c == '.':
			return false
		}
	}
	return false
}
