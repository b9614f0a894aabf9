// Package stores opens a lake.Store by URL, with the decorators every command wants:
// retries for remote stores, metrics when a registry is given, and the check that an
// S3 endpoint really enforces conditional writes.
//
//	store, err := stores.Open(ctx, "s3://lake/prod", stores.Options{Logger: logger, Registerer: reg})
//	store, err := stores.Open(ctx, "./lake", stores.Options{}) // a local directory
//
// URLs:
//
//	file:///abs/path          a local directory (lake/fs), created if missing
//	/abs/path, rel/path       the same, for a plain path
//	s3://bucket[/prefix]      S3 or compatible (lake/s3); endpoint, region, credentials and
//	                          path style from AWS_* variables (see s3.ConfigFromURL)
//	mem://                    a fresh in-memory store (lake/mem), for tests
package stores

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/lakectl/lakectl/lake"
	"github.com/lakectl/lakectl/lake/fs"
	"github.com/lakectl/lakectl/lake/mem"
	"github.com/lakectl/lakectl/lake/s3"
	"github.com/lakectl/lakectl/lake/storeurl"
	"github.com/prometheus/client_golang/prometheus"
)

// Options tunes Open. The zero value is usable.
type Options struct {
	// Logger receives the stores' log lines (retries). Default: discard.
	Logger *slog.Logger
	// Registerer, if set, gets the store metrics (lake.NewMetrics). Default: none.
	Registerer prometheus.Registerer
	// Retry configures retries of remote stores. Default: lake.RetryConfig's defaults.
	Retry lake.RetryConfig
	// Getenv reads the environment for s3:// URLs. Default os.Getenv.
	Getenv func(string) string
	// ReadOnly skips the conditional-write probe (which writes) and returns a store that
	// refuses every write, for commands that only read, possibly with read-only
	// credentials. Default false.
	ReadOnly bool
}

// ErrReadOnly is returned by writes to a store opened with Options.ReadOnly.
var ErrReadOnly = errors.New("store opened read-only")

// Open returns the store that rawURL names. For s3:// it sends requests: the
// conditional-write probe (unless ReadOnly), refusing with *s3.ConditionalWritesError an
// endpoint that ignores If-None-Match.
func Open(ctx context.Context, rawURL string, opts Options) (lake.Store, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.Retry.Logger == nil {
		opts.Retry.Logger = opts.Logger.With("component", "store")
	}
	if err := storeurl.Check(rawURL); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	var (
		store   lake.Store
		backend string
		remote  *s3.Store
	)
	switch storeurl.Scheme(rawURL) {
	case storeurl.Mem:
		store, backend = mem.New(), "mem"
	default: // file:// or a path: Check refused every other scheme
		dir, err := localDir(rawURL)
		if err != nil {
			return nil, err
		}
		fsStore, err := fs.New(dir)
		if err != nil {
			return nil, fmt.Errorf("open store %s: %w", rawURL, err)
		}
		store, backend = fsStore, "file"
	case storeurl.S3:
		cfg, err := s3.ConfigFromURL(rawURL, opts.Getenv)
		if err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		if remote, err = s3.New(cfg); err != nil {
			return nil, fmt.Errorf("open store %s: %w", rawURL, err)
		}
		store, backend = remote, "s3"
	}
	if opts.Registerer != nil {
		// Below the retries, so that every attempt and its outcome is counted.
		store = lake.NewMetrics(opts.Registerer).Wrap(store, backend)
	}
	if remote != nil {
		store = lake.WithRetry(store, opts.Retry)
		if !opts.ReadOnly {
			if err := s3.CheckConditionalWrites(ctx, store, remote.String()); err != nil {
				return nil, fmt.Errorf("open store: %w", err)
			}
		}
	}
	if opts.ReadOnly {
		store = readOnly(store)
	}
	return store, nil
}

// localDir returns the directory of a file:// URL or a plain path.
func localDir(rawURL string) (string, error) {
	if storeurl.Scheme(rawURL) == "" {
		return filepath.Abs(rawURL)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("open store %q: %w", rawURL, err)
	}
	if u.Host != "" && u.Host != "localhost" {
		return "", fmt.Errorf("open store %q: want file:///absolute/path (three slashes), or a plain path", rawURL)
	}
	if u.Path == "" || !strings.HasPrefix(u.Path, "/") {
		return "", fmt.Errorf("open store %q: file:// URLs take an absolute path", rawURL)
	}
	return filepath.FromSlash(u.Path), nil
}
