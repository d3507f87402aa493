package repository

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"gocloud.dev/blob"
)

var errNotImplemented = errors.New("repository: not implemented yet")

type repo struct {
	cfg  Config
	keys *struct{}
}

type sessionObject struct{}
type sessionMu = sync.Mutex

func initURL(ctx context.Context, url string, opts InitOptions) (*Repository, error) {
	return nil, errNotImplemented
}
func initBucket(ctx context.Context, b *blob.Bucket, prefix string, opts InitOptions, own bool) (*Repository, error) {
	return nil, errNotImplemented
}
func openURL(ctx context.Context, url string, opts OpenOptions) (*Repository, error) {
	return nil, errNotImplemented
}
func openBucket(ctx context.Context, b *blob.Bucket, prefix string, opts OpenOptions, own bool) (*Repository, error) {
	return nil, errNotImplemented
}
func manifestRefs(m *Manifest) ([]Reference, []string, error) { return nil, nil, errNotImplemented }
func (r *repo) close() error                                  { return errNotImplemented }
func (r *repo) changePassphrase(ctx context.Context, p string, k KDF, params *KDFParams) error {
	return errNotImplemented
}
func (r *repo) putFile(ctx context.Context, path string, meta ObjectMeta) (ObjectInfo, error) {
	return ObjectInfo{}, errNotImplemented
}
func (r *repo) putBytes(ctx context.Context, data []byte, meta ObjectMeta) (ObjectInfo, error) {
	return ObjectInfo{}, errNotImplemented
}
func (r *repo) hasObject(ctx context.Context, id string) (bool, error) {
	return false, errNotImplemented
}
func (r *repo) openObject(ctx context.Context, id string) (io.ReadCloser, error) {
	return nil, errNotImplemented
}
func (r *repo) fetchFile(ctx context.Context, id, dst string) error     { return errNotImplemented }
func (r *repo) writeIndex(ctx context.Context, objs []ObjectInfo) error { return errNotImplemented }
func (s *Session) putFile(ctx context.Context, p string, m ObjectMeta) (ObjectInfo, error) {
	return ObjectInfo{}, errNotImplemented
}
func (s *Session) putBytes(ctx context.Context, d []byte, m ObjectMeta) (ObjectInfo, error) {
	return ObjectInfo{}, errNotImplemented
}
func (s *Session) objects() []ObjectInfo { return nil }
func (s *Session) commit(ctx context.Context, m *Manifest) (string, error) {
	return "", errNotImplemented
}
func (r *repo) list(ctx context.Context) ([]SnapshotInfo, error)      { return nil, errNotImplemented }
func (r *repo) resolve(ctx context.Context, p string) (string, error) { return "", errNotImplemented }
func (r *repo) loadManifest(ctx context.Context, id string) (*Snapshot, error) {
	return nil, errNotImplemented
}
func (r *repo) deleteSnapshot(ctx context.Context, id string, o DeleteOptions, override bool) error {
	return errNotImplemented
}
func (r *repo) effectiveRetention(ctx context.Context, id string) (EffectiveRetention, error) {
	return EffectiveRetention{}, errNotImplemented
}
func (r *repo) lock(ctx context.Context, id string, until time.Time, m RetentionMode, o LockOptions) error {
	return errNotImplemented
}
func (r *repo) hold(ctx context.Context, id, name string, release bool) error {
	return errNotImplemented
}
func (r *repo) forget(ctx context.Context, p Policy, o ForgetOptions) (ForgetResult, error) {
	return ForgetResult{}, errNotImplemented
}
func (r *repo) prune(ctx context.Context, o PruneOptions) (PruneResult, error) {
	return PruneResult{}, errNotImplemented
}
func (r *repo) copyTo(ctx context.Context, dst *repo, ids []string, o CopyOptions) (CopyResult, error) {
	return CopyResult{}, errNotImplemented
}
func (r *repo) verify(ctx context.Context, o VerifyOptions) (*Report, error) {
	return nil, errNotImplemented
}
