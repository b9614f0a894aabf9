package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
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
