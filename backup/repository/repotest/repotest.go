// Package repotest provides buckets for testing backup repositories: an
// S3 endpoint served in-process by gofakes3 (real s3blob and AWS SDK on the
// client side), and a bucket that enforces object lock retention the way S3
// Object Lock does, which no emulator does.
package repotest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"gocloud.dev/blob"
	"gocloud.dev/blob/driver"
	"gocloud.dev/blob/memblob"
	"gocloud.dev/blob/s3blob"
	"gocloud.dev/gcerrors"

	"github.com/dataopskit/dataops/backup/repository"
)

// S3Endpoint starts a gofakes3 server for the test, creates bucketName in it
// and returns the endpoint URL, for s3:// URLs such as
// "s3://NAME?endpoint=URL&use_path_style=true&region=us-east-1" (credentials
// then come from the environment: set AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY to anything). The server stops when the test ends.
func S3Endpoint(t testing.TB, bucketName string) string {
	t.Helper()
	faker := gofakes3.New(s3mem.New())
	srv := httptest.NewServer(faker.Server())
	t.Cleanup(srv.Close)
	if _, err := newClient(srv.URL).CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucketName)}); err != nil {
		t.Fatalf("gofakes3: create bucket %s: %v", bucketName, err)
	}
	return srv.URL
}

func newClient(endpoint string) *s3.Client {
	return s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
}

// S3 starts a gofakes3 server for the test and returns a bucket named
// bucketName opened through s3blob (path-style, static credentials), and the
// SDK client. Both are closed when the test ends.
func S3(t testing.TB, bucketName string) (*blob.Bucket, *s3.Client) {
	t.Helper()
	client := newClient(S3Endpoint(t, bucketName))
	b, err := s3blob.OpenBucket(context.Background(), client, bucketName, nil)
	if err != nil {
		t.Fatalf("s3blob: open bucket %s: %v", bucketName, err)
	}
	t.Cleanup(func() { b.Close() })
	return b, client
}

// ErrRetained is returned (as gcerrors.PermissionDenied) by a LockingBucket
// for a delete or overwrite of an object under retention.
var ErrRetained = errors.New("object is under object lock retention")

// LockingBucket is an in-memory bucket that enforces per-object retention:
// until its retain-until date an object can be neither deleted nor
// overwritten, and a compliance retention cannot be shortened (governance
// can, with bypass — not offered here, as without s3:BypassGovernanceRetention).
// It implements repository.ObjectLocker and hands itself out through the
// bucket's As, so repositories on it set retention automatically.
type LockingBucket struct {
	inner *blob.Bucket
	mu    sync.Mutex
	ret   map[string]retention
	now   func() time.Time
}

type retention struct {
	until time.Time
	mode  repository.RetentionMode
}

// NewLockingBucket returns the bucket and its lock controller. now is the
// clock (nil: time.Now).
func NewLockingBucket(now func() time.Time) (*blob.Bucket, *LockingBucket) {
	if now == nil {
		now = time.Now
	}
	l := &LockingBucket{inner: memblob.OpenBucket(nil), ret: map[string]retention{}, now: now}
	return blob.NewBucket(&lockDriver{l: l}), l
}

// SetRetention sets or extends the retention of key (ObjectLocker).
func (l *LockingBucket) SetRetention(ctx context.Context, key string, until time.Time, mode repository.RetentionMode) error {
	if ok, err := l.inner.Exists(ctx, key); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("set retention on %s: no such object", key)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	cur, ok := l.ret[key]
	if ok && until.Before(cur.until) && l.now().Before(cur.until) {
		return fmt.Errorf("set retention on %s: cannot shorten %s retention until %s: %w", key, cur.mode, cur.until, ErrRetained)
	}
	if ok && cur.mode == repository.Compliance && mode == repository.Governance && l.now().Before(cur.until) {
		mode = repository.Compliance
	}
	l.ret[key] = retention{until: until, mode: mode}
	return nil
}

// Retention returns the retain-until date of key (zero if none).
func (l *LockingBucket) Retention(key string) (time.Time, repository.RetentionMode) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.ret[key]
	return r.until, r.mode
}

// Retained lists the keys currently under retention.
func (l *LockingBucket) Retained() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for k, r := range l.ret {
		if l.now().Before(r.until) {
			out = append(out, k)
		}
	}
	return out
}

func (l *LockingBucket) check(key string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r, ok := l.ret[key]; ok && l.now().Before(r.until) {
		return &retainedError{key: key, until: r.until}
	}
	return nil
}

type retainedError struct {
	key   string
	until time.Time
}

func (e *retainedError) Error() string {
	return fmt.Sprintf("%s: %v until %s", e.key, ErrRetained, e.until.Format(time.RFC3339))
}
func (e *retainedError) Unwrap() error { return ErrRetained }

// lockDriver is the driver.Bucket of a LockingBucket: it delegates to an
// in-memory bucket and refuses deletes and overwrites of retained keys.
type lockDriver struct{ l *LockingBucket }

func (d *lockDriver) ErrorCode(err error) gcerrors.ErrorCode {
	if errors.Is(err, ErrRetained) {
		return gcerrors.PermissionDenied
	}
	return gcerrors.Code(err)
}

func (d *lockDriver) As(i any) bool {
	if p, ok := i.(*repository.ObjectLocker); ok {
		*p = d.l
		return true
	}
	if p, ok := i.(**LockingBucket); ok {
		*p = d.l
		return true
	}
	return false
}

func (d *lockDriver) ErrorAs(error, any) bool { return false }

func (d *lockDriver) Attributes(ctx context.Context, key string) (*driver.Attributes, error) {
	a, err := d.l.inner.Attributes(ctx, key)
	if err != nil {
		return nil, err
	}
	return &driver.Attributes{ContentType: a.ContentType, Metadata: a.Metadata, CreateTime: a.CreateTime,
		ModTime: a.ModTime, Size: a.Size, MD5: a.MD5, ETag: a.ETag}, nil
}

func (d *lockDriver) ListPaged(ctx context.Context, opts *driver.ListOptions) (*driver.ListPage, error) {
	tok := opts.PageToken
	if len(tok) == 0 {
		tok = blob.FirstPageToken
	}
	objs, next, err := d.l.inner.ListPage(ctx, tok, max(opts.PageSize, 1000), &blob.ListOptions{Prefix: opts.Prefix, Delimiter: opts.Delimiter})
	if err != nil {
		return nil, err
	}
	p := &driver.ListPage{NextPageToken: next}
	for _, o := range objs {
		p.Objects = append(p.Objects, &driver.ListObject{Key: o.Key, ModTime: o.ModTime, Size: o.Size, MD5: o.MD5, IsDir: o.IsDir})
	}
	return p, nil
}

type reader struct {
	r *blob.Reader
}

func (r *reader) Read(p []byte) (int, error) { return r.r.Read(p) }
func (r *reader) Close() error               { return r.r.Close() }
func (r *reader) As(any) bool                { return false }
func (r *reader) Attributes() *driver.ReaderAttributes {
	return &driver.ReaderAttributes{ContentType: r.r.ContentType(), ModTime: r.r.ModTime(), Size: r.r.Size()}
}

func (d *lockDriver) NewRangeReader(ctx context.Context, key string, offset, length int64, _ *driver.ReaderOptions) (driver.Reader, error) {
	r, err := d.l.inner.NewRangeReader(ctx, key, offset, length, nil)
	if err != nil {
		return nil, err
	}
	return &reader{r: r}, nil
}

func (d *lockDriver) NewTypedWriter(ctx context.Context, key, contentType string, opts *driver.WriterOptions) (driver.Writer, error) {
	if err := d.l.check(key); err != nil {
		return nil, err
	}
	return d.l.inner.NewWriter(ctx, key, &blob.WriterOptions{ContentType: contentType, Metadata: opts.Metadata})
}

func (d *lockDriver) Copy(ctx context.Context, dstKey, srcKey string, _ *driver.CopyOptions) error {
	if err := d.l.check(dstKey); err != nil {
		return err
	}
	return d.l.inner.Copy(ctx, dstKey, srcKey, nil)
}

func (d *lockDriver) Delete(ctx context.Context, key string, _ *driver.DeleteOptions) error {
	if err := d.l.check(key); err != nil {
		return err
	}
	return d.l.inner.Delete(ctx, key)
}

func (d *lockDriver) SignedURL(context.Context, string, *driver.SignedURLOptions) (string, error) {
	return "", errors.New("repotest: signed URLs are not supported")
}

func (d *lockDriver) Close() error { return d.l.inner.Close() }

var _ io.Closer = (*reader)(nil)
