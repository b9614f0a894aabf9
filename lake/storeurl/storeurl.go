// Package storeurl is the grammar of lake URLs: what lake/stores opens, checked
// without linking the store backends, so that the pipeline loader can refuse a bad
// store: in lakectl.yaml at load, before any command touches a lake.
//
//	if err := storeurl.Check("s3://"); err != nil {
//		// s3 URL "s3://" names no bucket: want s3://bucket[/prefix]
//	}
//
// A lake URL is one of
//
//	file:///abs/path    a local directory
//	/abs/path, rel/path the same, for a plain path
//	s3://bucket[/prefix] S3 or compatible
//	mem://[name]        an in-memory store, for tests
//
// Anything else is an error rather than a directory of a surprising name: an unknown
// scheme, an s3:// URL without a bucket, and a plain path whose first element holds a
// colon ("s3:", "s3:/bucket"), which reads as a URL that lost its "//".
package storeurl

import (
	"fmt"
	"net/url"
	"strings"
)

// Schemes that lake/stores opens.
const (
	File = "file"
	S3   = "s3"
	Mem  = "mem"
)

// Scheme returns the scheme of rawURL, or "" for a plain path.
func Scheme(rawURL string) string {
	before, _, ok := strings.Cut(rawURL, "://")
	if !ok {
		return ""
	}
	return before
}

// Check returns an error, with a hint in its text, when rawURL is not a lake URL.
// It checks the form only: whether the directory or bucket exists is for opening.
func Check(rawURL string) error {
	switch s := Scheme(rawURL); s {
	case "":
		return checkPath(rawURL)
	case File, Mem:
		return nil
	case S3:
		u, err := url.Parse(rawURL)
		if err != nil {
			return fmt.Errorf("s3 URL %q: %w", rawURL, err)
		}
		if u.Host == "" {
			return fmt.Errorf("s3 URL %q names no bucket: want s3://bucket[/prefix]", rawURL)
		}
		return nil
	default:
		return fmt.Errorf("lake URL %q: unknown scheme %q (want file://, s3://, mem:// or a path)", rawURL, s)
	}
}

// checkPath refuses an empty path and one whose first element holds a colon.
func checkPath(p string) error {
	if p == "" {
		return fmt.Errorf("empty lake URL: want a directory, file:///path or s3://bucket/prefix")
	}
	first, _, _ := strings.Cut(p, "/")
	if scheme, _, ok := strings.Cut(first, ":"); ok {
		return fmt.Errorf("lake URL %q: a path that starts with %q reads as a URL without its \"//\": write %s://… (s3://bucket/prefix, file:///path), or ./%s for a directory of that name",
			p, scheme+":", scheme, p)
	}
	return nil
}
