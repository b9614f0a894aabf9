package s3

import (
	"strings"
	"testing"
)

func TestConfigFromURL(t *testing.T) {
	env := map[string]string{
		"AWS_ENDPOINT_URL":      "http://generic:9000",
		"AWS_ENDPOINT_URL_S3":   "http://s3only:9000",
		"AWS_DEFAULT_REGION":    "eu-west-1",
		"AWS_ACCESS_KEY_ID":     "AK",
		"AWS_SECRET_ACCESS_KEY": "SK",
		"AWS_SESSION_TOKEN":     "TOK",
	}
	cases := []struct {
		name    string
		url     string
		env     map[string]string
		want    Config
		wantErr string
	}{
		{"bucket only, no env", "s3://lake", nil, Config{Bucket: "lake"}, ""},
		{"prefix trimmed", "s3://lake/a/b/", nil, Config{Bucket: "lake", Prefix: "a/b"}, ""},
		{"env", "s3://lake/p", env, Config{
			Endpoint: "http://s3only:9000", Region: "eu-west-1", Bucket: "lake", Prefix: "p",
			AccessKey: "AK", SecretKey: "SK", SessionToken: "TOK",
		}, ""},
		{"AWS_REGION wins", "s3://lake", map[string]string{"AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "eu-west-1"},
			Config{Bucket: "lake", Region: "us-west-2"}, ""},
		{"generic endpoint", "s3://lake", map[string]string{"AWS_ENDPOINT_URL": "http://generic:9000"},
			Config{Bucket: "lake", Endpoint: "http://generic:9000"}, ""},
		{"path style, other tools' name", "s3://lake", map[string]string{"AWS_S3_FORCE_PATH_STYLE": "true"},
			Config{Bucket: "lake", PathStyle: true}, ""},
		{"path style, lakectl's name wins", "s3://lake", map[string]string{"AWS_S3_FORCE_PATH_STYLE": "true", "LAKECTL_S3_PATH_STYLE": "false"},
			Config{Bucket: "lake"}, ""},
		{"query overrides env", "s3://lake/p?endpoint=http://127.0.0.1:7070&region=local&path_style=1", env, Config{
			Endpoint: "http://127.0.0.1:7070", Region: "local", Bucket: "lake", Prefix: "p", PathStyle: true,
			AccessKey: "AK", SecretKey: "SK", SessionToken: "TOK",
		}, ""},
		{"wrong scheme", "gs://lake", nil, Config{}, "want s3://bucket"},
		{"no bucket", "s3:///p", nil, Config{}, "want s3://bucket"},
		{"unknown parameter", "s3://lake?secret=x", nil, Config{}, `unknown parameter "secret"`},
		{"credentials in URL", "s3://AK:SK@lake", nil, Config{}, "not in the URL"},
		{"bad path style", "s3://lake", map[string]string{"LAKECTL_S3_PATH_STYLE": "maybe"}, Config{}, "want true or false"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ConfigFromURL(c.url, func(k string) string { return c.env[k] })
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("ConfigFromURL(%q) error = %v, want one containing %q", c.url, err, c.wantErr)
				}
				if strings.Contains(err.Error(), "SK") {
					t.Errorf("error %q shows the secret", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ConfigFromURL(%q): %v", c.url, err)
			}
			if got != c.want {
				t.Errorf("ConfigFromURL(%q) =\n%+v\nwant\n%+v", c.url, got, c.want)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	cases := []struct {
		in                 Config
		endpoint, describe string
		insecure           bool
	}{
		{Config{Bucket: "b"}, "s3.amazonaws.com", "s3://b at https://s3.amazonaws.com", false},
		{Config{Bucket: "b", Prefix: "/p/", Endpoint: "http://127.0.0.1:9000"}, "127.0.0.1:9000", "s3://b/p at http://127.0.0.1:9000", true},
		{Config{Bucket: "b", Endpoint: "https://minio.local", Insecure: true}, "minio.local", "s3://b at https://minio.local", false},
		{Config{Bucket: "b", Endpoint: "minio.local:9000", Insecure: true}, "minio.local:9000", "s3://b at http://minio.local:9000", true},
	}
	for _, c := range cases {
		got, err := c.in.withDefaults()
		if err != nil {
			t.Fatalf("%+v: %v", c.in, err)
		}
		if got.Endpoint != c.endpoint || got.Insecure != c.insecure || got.String() != c.describe || got.PartSize != defaultPartSize {
			t.Errorf("%+v with defaults = %+v (%s), want endpoint %q insecure %v (%s)", c.in, got, got, c.endpoint, c.insecure, c.describe)
		}
	}
	if _, err := (Config{}).withDefaults(); err == nil {
		t.Error("a config without bucket was accepted")
	}
}
