// Package s3 is the lake.Store for S3 and S3-compatible servers (AWS S3, MinIO,
// versitygw, ...), built on minio-go.
//
//	cfg, err := s3.ConfigFromURL("s3://lake/prod", os.Getenv)
//	store, err := s3.New(cfg)
//	err = store.CheckConditionalWrites(ctx) // refuse endpoints that ignore If-None-Match
//	err = store.PutIfAbsent(ctx, "silver/events/_delta_log/00000000000000000007.json", commit)
//
// PutIfAbsent is one PUT with If-None-Match: * and no multipart upload (a multipart
// upload's condition is checked at completion by AWS and versitygw but at start by
// MinIO, and some servers drop it): 412 becomes lake.ErrExists, and 409 (another
// conditional write in flight) a transient error.
//
// The store does not retry: minio-go's own retries are switched off, because a retried
// conditional PUT whose first reply was lost reports 412 for our own write. Wrap the
// store with lake.WithRetry, which retries errors marked lake.Transient and resolves
// that case by reading the object back. lake/stores does both.
package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"strings"

	"github.com/lakectl/lakectl/lake"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

const opPutIfAbsent = "put-if-absent"

// Store is a lake.Store over a bucket and prefix. It is safe for concurrent use.
type Store struct {
	client *minio.Client
	core   minio.Core // single requests, for Get: its errors come back at once
	cfg    Config
}

var _ lake.Store = (*Store)(nil)

// New returns a store for cfg. It sends no request; CheckConditionalWrites is the first
// that reaches the server.
func New(cfg Config) (*Store, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	lookup := minio.BucketLookupAuto
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, cfg.SessionToken),
		Secure:       !cfg.Insecure,
		Region:       cfg.Region,
		BucketLookup: lookup,
		MaxRetries:   1, // retries belong to lake.WithRetry; see the package doc
	})
	if err != nil {
		return nil, fmt.Errorf("s3 store %s: %w", cfg, err)
	}
	return &Store{client: client, core: minio.Core{Client: client}, cfg: cfg}, nil
}

// Config returns the store's configuration, defaults filled in.
func (s *Store) Config() Config { return s.cfg }

// String names the store's location and endpoint for messages.
func (s *Store) String() string { return s.cfg.String() }

// Client returns the minio-go client, for tests and tools that need bucket operations.
func (s *Store) Client() *minio.Client { return s.client }

// object returns the object name of key.
func (s *Store) object(key string) string {
	if s.cfg.Prefix == "" {
		return key
	}
	return s.cfg.Prefix + "/" + key
}

// Get implements lake.Store.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	rc, _, _, err := s.core.GetObject(ctx, s.cfg.Bucket, s.object(key), minio.GetObjectOptions{})
	if err != nil {
		return nil, classify(ctx, "get", key, err)
	}
	return &body{ReadCloser: rc, ctx: ctx, op: "get", key: key}, nil
}

// GetRange implements lake.Store.
func (s *Store) GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if offset < 0 {
		return nil, fmt.Errorf("s3: get range %s: negative offset %d", key, offset)
	}
	if length == 0 {
		// No range header can ask for nothing; confirm the object exists.
		if _, err := s.Stat(ctx, key); err != nil {
			return nil, err
		}
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	var opts minio.GetObjectOptions
	switch {
	case offset == 0 && length < 0:
		// The whole object: no range.
	case length < 0:
		opts.Set("Range", fmt.Sprintf("bytes=%d-", offset))
	default:
		opts.Set("Range", fmt.Sprintf("bytes=%d-%d", offset, offset+length-1))
	}
	rc, _, _, err := s.core.GetObject(ctx, s.cfg.Bucket, s.object(key), opts)
	if minio.ToErrorResponse(err).StatusCode == http.StatusRequestedRangeNotSatisfiable {
		// The object exists and the range starts at or past its end: nothing to read.
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	if err != nil {
		return nil, classify(ctx, "get range", key, err)
	}
	return &body{ReadCloser: rc, ctx: ctx, op: "get range", key: key}, nil
}

// body classifies the errors of reading an object's body as classify does those of
// opening it: a connection reset halfway through a read is as transient as one
// before it, and callers retry whole reads on that mark.
type body struct {
	io.ReadCloser
	ctx     context.Context
	op, key string
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		err = classify(b.ctx, b.op, b.key, err)
	}
	return n, err
}

// Put implements lake.Store. Objects larger than Config.PartSize, or of unknown size
// and larger than that, go up as multipart uploads.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	_, err := s.client.PutObject(ctx, s.cfg.Bucket, s.object(key), r, size, minio.PutObjectOptions{
		ContentType: "application/octet-stream",
		PartSize:    s.cfg.PartSize,
	})
	return classify(ctx, "put", key, err)
}

// PutIfAbsent implements lake.Store with one conditional PUT.
func (s *Store) PutIfAbsent(ctx context.Context, key string, data []byte) error {
	opts := minio.PutObjectOptions{
		ContentType:      "application/octet-stream",
		DisableMultipart: true, // a multipart upload may drop the condition
	}
	opts.SetMatchETagExcept("*")
	_, err := s.client.PutObject(ctx, s.cfg.Bucket, s.object(key), bytes.NewReader(data), int64(len(data)), opts)
	return classify(ctx, opPutIfAbsent, key, err)
}

// Stat implements lake.Store.
func (s *Store) Stat(ctx context.Context, key string) (lake.ObjectInfo, error) {
	info, err := s.client.StatObject(ctx, s.cfg.Bucket, s.object(key), minio.StatObjectOptions{})
	if err != nil {
		return lake.ObjectInfo{}, classify(ctx, "stat", key, err)
	}
	return lake.ObjectInfo{Key: key, Size: info.Size, ModTime: info.LastModified}, nil
}

// List implements lake.Store with ListObjectsV2, which S3 returns in key order.
func (s *Store) List(ctx context.Context, prefix, startAfter string) ([]lake.ObjectInfo, error) {
	ctx, cancel := context.WithCancel(ctx) // stops minio-go's lister if we return early
	defer cancel()
	opts := minio.ListObjectsOptions{Prefix: s.object(prefix), Recursive: true}
	if startAfter != "" {
		opts.StartAfter = s.object(startAfter)
	}
	strip := len(s.object(""))
	var out []lake.ObjectInfo
	for o := range s.client.ListObjects(ctx, s.cfg.Bucket, opts) {
		if o.Err != nil {
			return nil, classify(ctx, "list", prefix, o.Err)
		}
		if strings.HasSuffix(o.Key, "/") || len(o.Key) <= strip {
			continue // a "directory" marker made by some other tool, not an object
		}
		out = append(out, lake.ObjectInfo{Key: o.Key[strip:], Size: o.Size, ModTime: o.LastModified})
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("s3: list %s: %w", prefix, err)
	}
	return out, nil
}

// Delete implements lake.Store. S3 deletes are idempotent already; a 404 from a server
// that answers one is success too.
func (s *Store) Delete(ctx context.Context, key string) error {
	err := classify(ctx, "delete", key, s.client.RemoveObject(ctx, s.cfg.Bucket, s.object(key), minio.RemoveObjectOptions{}))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
