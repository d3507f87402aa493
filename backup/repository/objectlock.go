package repository

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"gocloud.dev/blob"
)

// discoverLocker returns the ObjectLocker a bucket offers through As.
func discoverLocker(_ context.Context, b *blob.Bucket, _ *slog.Logger) ObjectLocker {
	var l ObjectLocker
	if b.As(&l) && l != nil {
		return l
	}
	return nil
}

// s3Locker sets S3 Object Lock retention on objects.
type s3Locker struct {
	c      *s3.Client
	bucket string
	prefix string
}

// NewS3ObjectLocker returns an ObjectLocker that sets S3 Object Lock retention
// (PutObjectRetention) on keys of bucket, prefixed with keyPrefix (the prefix
// of a bucket opened with ?prefix=). Retention is only ever extended.
// The bucket must have Object Lock enabled.
func NewS3ObjectLocker(client *s3.Client, bucket, keyPrefix string) ObjectLocker {
	return &s3Locker{c: client, bucket: bucket, prefix: keyPrefix}
}

func (l *s3Locker) SetRetention(ctx context.Context, key string, until time.Time, mode RetentionMode) error {
	k := l.prefix + key
	cur, err := l.c.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: &l.bucket, Key: &k})
	if err == nil && cur.Retention != nil && cur.Retention.RetainUntilDate != nil && !cur.Retention.RetainUntilDate.Before(until) {
		return nil
	}
	m := s3types.ObjectLockRetentionModeGovernance
	if mode == Compliance {
		m = s3types.ObjectLockRetentionModeCompliance
	}
	_, err = l.c.PutObjectRetention(ctx, &s3.PutObjectRetentionInput{Bucket: &l.bucket, Key: &k,
		Retention: &s3types.ObjectLockRetention{Mode: m, RetainUntilDate: aws.Time(until)}})
	if err != nil {
		return fmt.Errorf("s3 object retention on %s: %w", k, err)
	}
	return nil
}

// detectS3Locker enables S3 Object Lock for s3:// URLs whose bucket has it enabled.
func detectS3Locker(ctx context.Context, u string, b *blob.Bucket, log *slog.Logger) ObjectLocker {
	pu, err := url.Parse(u)
	if err != nil || pu.Scheme != "s3" {
		return nil
	}
	var c *s3.Client
	if !b.As(&c) || c == nil {
		return nil
	}
	bucket := pu.Host
	out, err := c.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: &bucket})
	if err != nil || out.ObjectLockConfiguration == nil || out.ObjectLockConfiguration.ObjectLockEnabled != s3types.ObjectLockEnabledEnabled {
		log.Debug("backup repository: S3 Object Lock not enabled on the bucket; retention is enforced by the repository only", "bucket", bucket)
		return nil
	}
	return NewS3ObjectLocker(c, bucket, pu.Query().Get("prefix"))
}
