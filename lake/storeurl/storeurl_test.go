package storeurl

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, tt := range []struct {
		url  string
		want string // "" for valid, else a part of the error
	}{
		{"lake", ""},
		{"./lake", ""},
		{"/abs/lake", ""},
		{"./s3:", ""},
		{"data/a:b", ""}, // a colon past the first element is a file name
		{"file:///abs/lake", ""},
		{"file://./rel", ""},
		{"s3://bucket", ""},
		{"s3://bucket/prefix", ""},
		{"mem://", ""},
		{"", "empty lake URL"},
		{"s3://", `names no bucket`},
		{"s3:///prefix", `names no bucket`},
		{"s3:", `without its "//": write s3://`},
		{"s3:/bucket/prefix", `without its "//"`},
		{"s3:bucket", `without its "//"`},
		{"gs://bucket/x", `unknown scheme "gs"`},
		{"S3://bucket", `unknown scheme "S3"`},
	} {
		err := Check(tt.url)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("Check(%q) = %v, want ok", tt.url, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("Check(%q) = %v, want an error with %q", tt.url, err, tt.want)
		}
	}
}
