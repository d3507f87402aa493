package repository_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"gocloud.dev/blob/memblob"

	"github.com/dataopskit/dataops/backup/repository"
	"github.com/dataopskit/dataops/backup/repository/repotest"
)

func TestCopyIsSelfContainedAcrossKeys(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "") // A full, B delta on A
	s3b, _ := repotest.S3(t, "archive")
	dst := initRepo(t, s3b, "cold", pass)
	res, err := f.r.Copy(ctx, dst, []string{f.bID[:8]}, repository.CopyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Mapping) != 2 || res.Objects != 3 || res.Bytes != f.o1.Bytes+f.o2.Bytes+f.o3.Bytes {
		t.Fatalf("copy result: %+v", res)
	}
	newB, newA := res.Mapping[f.bID], res.Mapping[f.a]
	if newB == f.bID || newA == f.a {
		t.Fatal("ids kept across different keys")
	}
	m, err := dst.LoadManifest(ctx, newB)
	if err != nil {
		t.Fatal(err)
	}
	refs, bases, _ := m.Manifest.References()
	if len(bases) != 1 || bases[0] != newA || m.Manifest.Parent != newA || len(refs) != 1 || refs[0].Rows != 7 {
		t.Fatalf("copied manifest: bases %v parent %s refs %+v", bases, m.Manifest.Parent, refs)
	}
	rep, err := dst.Verify(ctx, repository.VerifyOptions{ReadData: true})
	if err != nil || !rep.OK() || rep.Snapshots != 2 || rep.ObjectsRead != 3 {
		t.Fatalf("verify copy: %+v %v", rep, err)
	}
	// Copying again uploads nothing new.
	res, err = f.r.Copy(ctx, dst, []string{f.bID}, repository.CopyOptions{})
	if err != nil || res.Objects != 0 || res.Mapping[f.bID] != newB {
		t.Fatalf("second copy: %+v %v", res, err)
	}
}

func TestMoveRefusesLockedAndDeletesOriginals(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, pass)
	dst := initRepo(t, memblob.OpenBucket(nil), "", "")
	if err := f.r.Lock(ctx, f.a, time.Now().Add(time.Hour), repository.Governance, repository.LockOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.r.Copy(ctx, dst, []string{f.a}, repository.CopyOptions{Move: true}); !errors.Is(err, repository.ErrLocked) {
		t.Fatalf("move locked: %v", err)
	}
	if snaps, _ := dst.List(ctx); len(snaps) != 0 {
		t.Fatalf("refused move wrote %d snapshots", len(snaps))
	}
	res, err := f.r.Copy(ctx, dst, []string{f.bID}, repository.CopyOptions{Move: true})
	if err != nil || len(res.Deleted) != 1 || res.Deleted[0] != f.bID {
		t.Fatalf("move: %+v %v", res, err)
	}
	if _, err := f.r.LoadManifest(ctx, f.bID); !errors.Is(err, repository.ErrNotFound) {
		t.Fatalf("original still there: %v", err)
	}
	if _, err := f.r.LoadManifest(ctx, f.a); err != nil {
		t.Fatalf("locked base was deleted: %v", err)
	}
	rep, err := dst.Verify(ctx, repository.VerifyOptions{ReadData: true})
	if err != nil || !rep.OK() || rep.Snapshots != 2 {
		t.Fatalf("verify moved: %+v %v", rep, err)
	}
}
