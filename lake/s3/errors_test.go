package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/lakectl/lakectl/lake"
	"github.com/minio/minio-go/v7"
)

func TestClassify(t *testing.T) {
	resp := func(status int, code string) error { return minio.ErrorResponse{StatusCode: status, Code: code} }
	netErr := &url.Error{Op: "Put", URL: "http://127.0.0.1:1/b/k", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}
	const (
		notFound = "not found"
		exists   = "exists"
		trans    = "transient"
		final    = "final"
	)
	cases := []struct {
		op   string
		err  error
		want string
	}{
		{"get", resp(404, "NoSuchKey"), notFound},
		{"stat", resp(404, ""), notFound}, // HEAD answers have no body
		{"get", resp(404, "NoSuchBucket"), final},
		{opPutIfAbsent, resp(412, "PreconditionFailed"), exists},
		{opPutIfAbsent, resp(409, "ConditionalRequestConflict"), trans},
		{opPutIfAbsent, resp(409, ""), trans},
		{"put", resp(503, "SlowDown"), trans},
		{"get", resp(500, "InternalError"), trans},
		{"list", resp(429, ""), trans},
		{"get", resp(403, "AccessDenied"), final},
		{"get", resp(400, "InvalidArgument"), final},
		{"get", netErr, trans},
		{"get", fmt.Errorf("read body: %w", io.ErrUnexpectedEOF), trans},
		{"get", errors.New("object name is invalid"), final},
	}
	for _, c := range cases {
		got := classify(t.Context(), c.op, "k", c.err)
		var kind string
		switch {
		case errors.Is(got, fs.ErrNotExist):
			kind = notFound
		case errors.Is(got, lake.ErrExists):
			kind = exists
		case lake.IsTransient(got):
			kind = trans
		default:
			kind = final
		}
		if kind != c.want {
			t.Errorf("classify(%s, %v) = %v (%s), want %s", c.op, c.err, got, kind, c.want)
		}
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if got := classify(ctx, "get", "k", netErr); lake.IsTransient(got) || !errors.Is(got, context.Canceled) {
		t.Errorf("classify with a canceled context = %v, want context.Canceled, not transient", got)
	}
	if classify(t.Context(), "get", "k", nil) != nil {
		t.Error("classify(nil) != nil")
	}
}

// TestClassifyHints: the failures a user fixes in the configuration carry a hint
// (which cmd/lakectl prints) naming what to fix; others carry none.
func TestClassifyHints(t *testing.T) {
	refused := &url.Error{Op: "Get", URL: "http://127.0.0.1:1/b/k", Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}
	cases := []struct {
		err  error
		hint string // "" for none
	}{
		{minio.ErrorResponse{StatusCode: 404, Code: "NoSuchBucket", BucketName: "lake"}, `bucket "lake" does not exist`},
		{minio.ErrorResponse{StatusCode: 403, Code: "SignatureDoesNotMatch"}, EnvSecretKey},
		{minio.ErrorResponse{StatusCode: 403, Code: "InvalidAccessKeyId"}, EnvAccessKey},
		{minio.ErrorResponse{StatusCode: 403, Code: "AccessDenied"}, EnvAccessKey},
		{minio.ErrorResponse{StatusCode: 403}, EnvAccessKey}, // a HEAD answer has no code
		{refused, EnvEndpointS3},
		{minio.ErrorResponse{StatusCode: 404, Code: "NoSuchKey"}, ""},
		{minio.ErrorResponse{StatusCode: 503, Code: "SlowDown"}, ""},
	}
	for _, c := range cases {
		got := classify(t.Context(), "list", "k", c.err)
		var h interface{ Hint() string }
		hint := ""
		if errors.As(got, &h) {
			hint = h.Hint()
		}
		if (c.hint == "") != (hint == "") || !strings.Contains(hint, c.hint) {
			t.Errorf("classify(%v): hint %q, want one containing %q", c.err, hint, c.hint)
		}
	}
	if got := classify(t.Context(), "get", "k", refused); !lake.IsTransient(got) {
		t.Errorf("connection refused: %v, want transient still", got)
	}
}
