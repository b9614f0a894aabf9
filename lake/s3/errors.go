package s3

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"syscall"

	"github.com/lakectl/lakectl/lake"
	"github.com/minio/minio-go/v7"
)

// transientCodes are S3 error codes that a later attempt may not get.
var transientCodes = map[string]bool{
	"SlowDown":                   true,
	"SlowDownRead":               true,
	"SlowDownWrite":              true,
	"RequestTimeout":             true,
	"InternalError":              true,
	"ServiceUnavailable":         true,
	"Throttling":                 true,
	"ThrottlingException":        true,
	"RequestLimitExceeded":       true,
	"OperationAborted":           true, // a conflicting conditional operation is in progress
	"ConditionalRequestConflict": true,
}

// classify turns a minio-go error into lakectl's conventions: not-found is
// fs.ErrNotExist, a failed If-None-Match is lake.ErrExists, and errors that a retry may
// cure are marked lake.Transient. op and key name what was being done.
func classify(ctx context.Context, op, key string, err error) error {
	if err == nil {
		return nil
	}
	wrapped := fmt.Errorf("s3: %s %s: %w", op, key, err)
	if ctx.Err() != nil {
		// Our own cancellation or deadline: final, whatever the transport made of it.
		return fmt.Errorf("s3: %s %s: %w", op, key, ctx.Err())
	}
	resp := minio.ToErrorResponse(err)
	switch {
	case resp.Code == "NoSuchKey" || (resp.StatusCode == http.StatusNotFound && resp.Code != "NoSuchBucket"):
		return fmt.Errorf("s3: %s %s: %w", op, key, fs.ErrNotExist)
	case resp.StatusCode == http.StatusPreconditionFailed || resp.Code == "PreconditionFailed":
		return fmt.Errorf("s3: %s %s: %w", op, key, lake.ErrExists)
	case resp.StatusCode == http.StatusConflict && op == opPutIfAbsent:
		// Another conditional write to the key is in flight; its outcome decides ours.
		return lake.Transient(wrapped)
	case resp.Code == "NoSuchBucket":
		return &configError{err: wrapped, hint: fmt.Sprintf("bucket %q does not exist at this endpoint: create it, or fix the bucket in the lake URL (s3://BUCKET/prefix) or %s", resp.BucketName, EnvEndpointS3)}
	case credentialCodes[resp.Code]:
		return &configError{err: wrapped, hint: fmt.Sprintf("the server rejected the credentials: check %s and %s (and %s if you use one)", EnvAccessKey, EnvSecretKey, EnvSessionToken)}
	case resp.Code == "AccessDenied" || (resp.StatusCode == http.StatusForbidden && resp.Code == ""):
		return &configError{err: wrapped, hint: fmt.Sprintf("check that the credentials in %s and %s may use this bucket and prefix", EnvAccessKey, EnvSecretKey)}
	case transientCodes[resp.Code], resp.StatusCode >= 500, resp.StatusCode == http.StatusTooManyRequests,
		resp.StatusCode == http.StatusRequestTimeout:
		return lake.Transient(wrapped)
	case resp.StatusCode != 0 || resp.Code != "":
		return wrapped // an answer from the server that retrying will not change
	case isTLSConfigError(err):
		return wrapped
	case isRefused(err):
		// Still worth retrying (a server restarting), but a hint if it stays so.
		return lake.Transient(&configError{err: wrapped, hint: fmt.Sprintf("nothing answers at the endpoint: check %s (or the endpoint in the lake URL) and that the server runs", EnvEndpointS3)})
	case isNetworkError(err):
		return lake.Transient(wrapped)
	}
	return wrapped
}

// credentialCodes are the answers to requests signed with a key the server does not
// know, or with the wrong secret.
var credentialCodes = map[string]bool{
	"InvalidAccessKeyId":    true,
	"SignatureDoesNotMatch": true,
	"InvalidToken":          true,
	"ExpiredToken":          true,
	"TokenRefreshRequired":  true,
}

// configError is a failure that the user fixes in the configuration, not by trying
// again: a missing bucket, rejected credentials, an endpoint where nothing listens.
// cmd/lakectl prints its Hint under the error.
type configError struct {
	err  error
	hint string
}

func (e *configError) Error() string { return e.err.Error() }
func (e *configError) Unwrap() error { return e.err }
func (e *configError) Hint() string  { return e.hint }

// isRefused reports a connection refused or a host name that does not resolve.
func isRefused(err error) bool {
	var dnsErr *net.DNSError
	return errors.Is(err, syscall.ECONNREFUSED) || (errors.As(err, &dnsErr) && dnsErr.IsNotFound)
}

// isNetworkError reports transport failures: refused or reset connections, timeouts,
// bodies cut short.
func isNetworkError(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, net.ErrClosed)
}

// isTLSConfigError reports certificate problems, which no retry fixes.
func isTLSConfigError(err error) bool {
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var verify *tls.CertificateVerificationError
	return errors.As(err, &unknownAuthority) || errors.As(err, &hostname) || errors.As(err, &verify)
}
