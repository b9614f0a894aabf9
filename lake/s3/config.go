package s3

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Config says where a store's objects live and how to reach them. Every field has a
// documented default; ConfigFromURL fills one from an s3:// URL and the standard AWS
// environment variables.
type Config struct {
	// Endpoint is the S3 server: "host[:port]" or a URL "http(s)://host[:port]", whose
	// scheme then decides TLS. Default "s3.amazonaws.com".
	Endpoint string
	// Region is the bucket's region. Default empty: minio-go asks the server once
	// (GetBucketLocation) and caches the answer.
	Region string
	// Bucket holds the objects. Required.
	Bucket string
	// Prefix is prepended, with a slash, to every key, so that one bucket can hold
	// several lakes. Default empty: keys are object names.
	Prefix string
	// AccessKey, SecretKey and SessionToken sign requests (AWS signature V4). Default
	// empty: anonymous requests. lakectl reads no credentials file and asks no instance
	// metadata service.
	AccessKey    string
	SecretKey    string
	SessionToken string
	// PathStyle addresses the bucket as http://endpoint/bucket instead of
	// http://bucket.endpoint. Most self-hosted servers (MinIO, versitygw) need it.
	// Default false: minio-go picks virtual-host style where the endpoint supports it.
	PathStyle bool
	// Insecure speaks plain HTTP. Default false (HTTPS). A URL Endpoint overrides it.
	Insecure bool
	// PartSize is the part size of multipart uploads, and so the memory that Put of an
	// object of unknown size buffers. Default 16 MiB; S3 allows at least 5 MiB.
	PartSize uint64
}

const (
	defaultEndpoint = "s3.amazonaws.com"
	defaultPartSize = 16 << 20
)

// Environment variables that ConfigFromURL reads.
const (
	EnvEndpointS3    = "AWS_ENDPOINT_URL_S3" // preferred over AWS_ENDPOINT_URL
	EnvEndpoint      = "AWS_ENDPOINT_URL"
	EnvRegion        = "AWS_REGION" // preferred over AWS_DEFAULT_REGION
	EnvDefaultRegion = "AWS_DEFAULT_REGION"
	EnvAccessKey     = "AWS_ACCESS_KEY_ID"
	EnvSecretKey     = "AWS_SECRET_ACCESS_KEY"
	EnvSessionToken  = "AWS_SESSION_TOKEN"
	// EnvPathStyle ("true" or "false") sets Config.PathStyle; LAKECTL_S3_PATH_STYLE
	// is preferred over AWS_S3_FORCE_PATH_STYLE, the name other tools use.
	EnvPathStyle      = "LAKECTL_S3_PATH_STYLE"
	EnvForcePathStyle = "AWS_S3_FORCE_PATH_STYLE"
)

// ConfigFromURL returns the Config for rawURL, "s3://bucket[/prefix]", with the rest
// from the environment as read by getenv (os.Getenv, or a map in tests). The URL may
// override the environment with query parameters endpoint, region and path_style:
//
//	s3://lake/prod?endpoint=http://127.0.0.1:9000&path_style=true
//
// Credentials come only from the environment, never from a URL that ends up in logs.
func ConfigFromURL(rawURL string, getenv func(string) string) (Config, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return Config{}, fmt.Errorf("s3 url %q: %w", rawURL, err)
	}
	if u.Scheme != "s3" || u.Host == "" {
		return Config{}, fmt.Errorf("s3 url %q: want s3://bucket[/prefix]", rawURL)
	}
	if u.User != nil {
		return Config{}, fmt.Errorf("s3 url %q: credentials belong in %s and %s, not in the URL", u.Redacted(), EnvAccessKey, EnvSecretKey)
	}
	env := func(names ...string) string {
		for _, n := range names {
			if v := getenv(n); v != "" {
				return v
			}
		}
		return ""
	}
	cfg := Config{
		Endpoint:     env(EnvEndpointS3, EnvEndpoint),
		Region:       env(EnvRegion, EnvDefaultRegion),
		Bucket:       u.Host,
		Prefix:       strings.Trim(u.Path, "/"),
		AccessKey:    env(EnvAccessKey),
		SecretKey:    env(EnvSecretKey),
		SessionToken: env(EnvSessionToken),
	}
	if v := env(EnvPathStyle, EnvForcePathStyle); v != "" {
		if cfg.PathStyle, err = strconv.ParseBool(v); err != nil {
			return Config{}, fmt.Errorf("s3 url %q: path style %q: want true or false", rawURL, v)
		}
	}
	for name, values := range u.Query() {
		v := values[len(values)-1]
		switch name {
		case "endpoint":
			cfg.Endpoint = v
		case "region":
			cfg.Region = v
		case "path_style":
			if cfg.PathStyle, err = strconv.ParseBool(v); err != nil {
				return Config{}, fmt.Errorf("s3 url %q: path_style %q: want true or false", rawURL, v)
			}
		default:
			return Config{}, fmt.Errorf("s3 url %q: unknown parameter %q (known: endpoint, region, path_style)", rawURL, name)
		}
	}
	return cfg, nil
}

// withDefaults fills defaults and splits a URL endpoint into host and TLS.
func (c Config) withDefaults() (Config, error) {
	if c.Bucket == "" {
		return c, fmt.Errorf("s3 config: no bucket")
	}
	if c.Endpoint == "" {
		c.Endpoint = defaultEndpoint
	}
	if strings.Contains(c.Endpoint, "://") {
		u, err := url.Parse(c.Endpoint)
		if err != nil {
			return c, fmt.Errorf("s3 config: endpoint %q: %w", c.Endpoint, err)
		}
		switch u.Scheme {
		case "http":
			c.Insecure = true
		case "https":
			c.Insecure = false
		default:
			return c, fmt.Errorf("s3 config: endpoint %q: scheme must be http or https", c.Endpoint)
		}
		if u.Path != "" && u.Path != "/" {
			return c, fmt.Errorf("s3 config: endpoint %q: a path is not supported", c.Endpoint)
		}
		c.Endpoint = u.Host
	}
	c.Prefix = strings.Trim(c.Prefix, "/")
	if c.PartSize == 0 {
		c.PartSize = defaultPartSize
	}
	return c, nil
}

// String names the store for messages: its URL and endpoint, never its credentials.
func (c Config) String() string {
	scheme := "https"
	if c.Insecure {
		scheme = "http"
	}
	loc := "s3://" + c.Bucket
	if c.Prefix != "" {
		loc += "/" + c.Prefix
	}
	return fmt.Sprintf("%s at %s://%s", loc, scheme, c.Endpoint)
}
