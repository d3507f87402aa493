package repository_test

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/blob/memblob"

	"github.com/dataopskit/dataops/backup/repository"
)

// fixture: snapshot A (full: o1, o2) and B (delta on A: o3).
type fixture struct {
	b          *blob.Bucket
	r          *repository.Repository
	a, bID     string
	o1, o2, o3 repository.ObjectInfo
}

func newFixture(t *testing.T, passphrase string) *fixture {
	t.Helper()
	b := memblob.OpenBucket(nil)
	t.Cleanup(func() { b.Close() })
	return newFixtureOn(t, b, passphrase)
}

func newFixtureOn(t *testing.T, b *blob.Bucket, passphrase string) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	f := &fixture{b: b}
	f.r = initRepo(t, f.b, "", passphrase)
	var infos []repository.ObjectInfo
	f.a, infos = backup(t, f.r, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), nil,
		writeParquet(t, dir, 0, 500), writeParquet(t, dir, 500, 20))
	f.o1, f.o2 = infos[0], infos[1]
	s := f.r.NewSession()
	var err error
	f.o3, err = s.PutFile(ctx, writeParquet(t, dir, 520, 7), repository.ObjectMeta{Rows: 7})
	if err != nil {
		t.Fatal(err)
	}
	f.bID, err = s.Commit(ctx, &repository.Manifest{Time: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), Kind: "incremental",
		Parent: f.a, Tables: deltaTables(f.a, f.o3)})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func dataKey(id string) string { return "data/" + id[:2] + "/" + id }

func firstKey(t *testing.T, b *blob.Bucket, prefix string) string {
	t.Helper()
	it := b.List(&blob.ListOptions{Prefix: prefix})
	o, err := it.Next(context.Background())
	if err != nil {
		t.Fatalf("no object under %s: %v", prefix, err)
	}
	return o.Key
}

func mutate(t *testing.T, b *blob.Bucket, key string, f func([]byte) []byte) {
	t.Helper()
	ctx := context.Background()
	data, err := b.ReadAll(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.WriteAll(ctx, key, f(data), nil); err != nil {
		t.Fatal(err)
	}
}

func flip(pos func(n int) int) func([]byte) []byte {
	return func(d []byte) []byte {
		d[pos(len(d))] ^= 0x10
		return d
	}
}

func TestVerifyDetectsEveryDamage(t *testing.T) {
	type damage struct {
		name     string
		readData bool // needed to see it
		do       func(t *testing.T, f *fixture) (object string, breaks []string)
	}
	dataFlip := func(pos func(int) int) func(t *testing.T, f *fixture) (string, []string) {
		return func(t *testing.T, f *fixture) (string, []string) {
			mutate(t, f.b, dataKey(f.o1.ID), flip(pos))
			return dataKey(f.o1.ID), []string{f.a, f.bID}
		}
	}
	cases := []damage{
		{"data bit flip in header", true, dataFlip(func(int) int { return 5 })},
		{"data bit flip in the middle", true, dataFlip(func(n int) int { return n / 2 })},
		{"data bit flip in the last byte", true, dataFlip(func(n int) int { return n - 1 })},
		{"data of the delta flipped", true, func(t *testing.T, f *fixture) (string, []string) {
			mutate(t, f.b, dataKey(f.o3.ID), flip(func(n int) int { return n / 3 }))
			return dataKey(f.o3.ID), []string{f.bID}
		}},
		{"data truncated", false, func(t *testing.T, f *fixture) (string, []string) {
			mutate(t, f.b, dataKey(f.o2.ID), func(d []byte) []byte { return d[:len(d)-9] })
			return dataKey(f.o2.ID), []string{f.a, f.bID}
		}},
		{"data emptied", false, func(t *testing.T, f *fixture) (string, []string) {
			mutate(t, f.b, dataKey(f.o2.ID), func([]byte) []byte { return nil })
			return dataKey(f.o2.ID), []string{f.a, f.bID}
		}},
		{"data deleted", false, func(t *testing.T, f *fixture) (string, []string) {
			f.b.Delete(context.Background(), dataKey(f.o1.ID))
			return dataKey(f.o1.ID), []string{f.a, f.bID}
		}},
		{"data swapped with another object", true, func(t *testing.T, f *fixture) (string, []string) {
			ctx := context.Background()
			other, _ := f.b.ReadAll(ctx, dataKey(f.o2.ID))
			f.b.WriteAll(ctx, dataKey(f.o3.ID), other, nil)
			return dataKey(f.o3.ID), []string{f.bID}
		}},
		{"manifest flipped", false, func(t *testing.T, f *fixture) (string, []string) {
			mutate(t, f.b, "snapshots/"+f.bID, flip(func(n int) int { return n - 3 }))
			return "snapshots/" + f.bID, []string{f.bID}
		}},
		{"base manifest deleted", false, func(t *testing.T, f *fixture) (string, []string) {
			f.b.Delete(context.Background(), "snapshots/"+f.a)
			return "snapshots/" + f.bID, []string{f.bID}
		}},
		{"index flipped", false, func(t *testing.T, f *fixture) (string, []string) {
			k := firstKey(t, f.b, "index/")
			mutate(t, f.b, k, flip(func(n int) int { return n / 2 }))
			return k, nil
		}},
		{"index deleted", false, func(t *testing.T, f *fixture) (string, []string) {
			ctx := context.Background()
			it := f.b.List(&blob.ListOptions{Prefix: "index/"})
			for {
				o, err := it.Next(ctx)
				if err == io.EOF {
					break
				}
				f.b.Delete(ctx, o.Key)
			}
			return dataKey(f.o1.ID), []string{f.a, f.bID}
		}},
		{"config altered", false, func(t *testing.T, f *fixture) (string, []string) {
			mutate(t, f.b, "config", func(d []byte) []byte {
				return []byte(strings.Replace(string(d), `"part_rows":1000000`, `"part_rows":1000001`, 1))
			})
			return "config", nil
		}},
		{"config garbage", false, func(t *testing.T, f *fixture) (string, []string) {
			mutate(t, f.b, "config", func([]byte) []byte { return []byte("{") })
			return "config", nil
		}},
		{"retention record flipped", false, func(t *testing.T, f *fixture) (string, []string) {
			if err := f.r.Hold(context.Background(), f.a, "case-1"); err != nil {
				t.Fatal(err)
			}
			k := firstKey(t, f.b, "retention/"+f.a+"/")
			mutate(t, f.b, k, flip(func(n int) int { return n - 1 }))
			return k, []string{f.a}
		}},
	}
	type variant struct {
		be  backend
		enc string
	}
	var variants []variant
	for _, be := range backends() {
		variants = append(variants, variant{be, ""})
		if be.name == "mem" {
			variants = append(variants, variant{be, pass})
		}
	}
	for _, vr := range variants {
		for _, tc := range cases {
			name := vr.be.name + "/" + tc.name
			if vr.enc != "" {
				name += "/encrypted"
			}
			t.Run(name, func(t *testing.T) {
				ctx := context.Background()
				f := newFixtureOn(t, vr.be.open(t), vr.enc)
				rep, err := f.r.Verify(ctx, repository.VerifyOptions{ReadData: true})
				if err != nil || !rep.OK() {
					t.Fatalf("clean repository: %+v %v", rep, err)
				}
				obj, breaks := tc.do(t, f)
				rep, err = f.r.Verify(ctx, repository.VerifyOptions{ReadData: tc.readData})
				if err != nil {
					t.Fatal(err)
				}
				var hit *repository.Problem
				for i, p := range rep.Problems {
					if p.Name == obj {
						hit = &rep.Problems[i]
					}
				}
				if hit == nil {
					t.Fatalf("no problem names %s; problems: %v", obj, rep.Problems)
				}
				for _, s := range breaks {
					if !slices.Contains(hit.Snapshots, s) {
						t.Fatalf("problem %v does not name broken snapshot %s", hit, s)
					}
				}
				if !strings.Contains(hit.String(), obj) {
					t.Fatalf("problem text %q does not name %s", hit.String(), obj)
				}
			})
		}
	}
}

func TestReadingDamagedObjectsFails(t *testing.T) {
	for _, enc := range []string{"", pass} {
		ctx := context.Background()
		f := newFixture(t, enc)
		mutate(t, f.b, dataKey(f.o1.ID), flip(func(n int) int { return n / 2 }))
		err := f.r.FetchFile(ctx, f.o1.ID, filepath.Join(t.TempDir(), "x"))
		var ce *repository.CorruptError
		if !errors.Is(err, repository.ErrCorrupt) || !errors.As(err, &ce) || ce.Name != dataKey(f.o1.ID) {
			t.Fatalf("fetch flipped (enc=%v): %v", enc != "", err)
		}
		rc, err := f.r.OpenObject(ctx, f.o1.ID)
		if err == nil {
			_, err = io.Copy(io.Discard, rc)
			rc.Close()
		}
		if !errors.Is(err, repository.ErrCorrupt) {
			t.Fatalf("open flipped: %v", err)
		}
		// A renamed object (moved to another id) fails too.
		ctx2 := context.Background()
		d, _ := f.b.ReadAll(ctx2, dataKey(f.o2.ID))
		f.b.WriteAll(ctx2, dataKey(f.o3.ID), d, nil)
		if err := f.r.FetchFile(ctx, f.o3.ID, filepath.Join(t.TempDir(), "y")); !errors.Is(err, repository.ErrCorrupt) {
			t.Fatalf("fetch substituted: %v", err)
		}
		if err := f.r.FetchFile(ctx, strings.Repeat("ab", 32), filepath.Join(t.TempDir(), "z")); !errors.Is(err, repository.ErrNotFound) {
			t.Fatalf("fetch missing: %v", err)
		}
		// A damaged manifest fails to load, naming itself.
		mutate(t, f.b, "snapshots/"+f.a, flip(func(n int) int { return n - 2 }))
		f2, err := repository.OpenBucket(ctx, f.b, "", repository.OpenOptions{Options: repository.Options{Passphrase: enc}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f2.LoadManifest(ctx, f.a); !errors.Is(err, repository.ErrCorrupt) || !strings.Contains(err.Error(), f.a) {
			t.Fatalf("load flipped manifest: %v", err)
		}
		// Prune refuses to guess while a manifest is unreadable.
		if _, err := f2.Prune(ctx, repository.PruneOptions{SafetyWindow: -1}); !errors.Is(err, repository.ErrCorrupt) {
			t.Fatalf("prune with a corrupt manifest: %v", err)
		}
	}
}

func TestVerifySubset(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "")
	total := 0
	for n := 1; n <= 3; n++ {
		rep, err := f.r.Verify(ctx, repository.VerifyOptions{Subset: strings.Repeat("", 0) + string(rune('0'+n)) + "/3"})
		if err != nil || !rep.OK() {
			t.Fatal(rep, err)
		}
		total += rep.ObjectsRead
	}
	if total != 3 {
		t.Fatalf("subsets 1/3..3/3 read %d objects, want 3", total)
	}
	rep, err := f.r.Verify(ctx, repository.VerifyOptions{Subset: "100%"})
	if err != nil || rep.ObjectsRead != 3 {
		t.Fatal(rep, err)
	}
	for _, bad := range []string{"0/3", "4/3", "x", "0%", "101%"} {
		if _, err := f.r.Verify(ctx, repository.VerifyOptions{Subset: bad}); err == nil {
			t.Fatalf("subset %q accepted", bad)
		}
	}
}

func TestVerifyCheckDataHookAndRowCount(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, pass)
	var mu sync.Mutex
	var seen []string
	rep, err := f.r.Verify(ctx, repository.VerifyOptions{ReadData: true, CheckData: func(ctx context.Context, o repository.ObjectInfo, r io.ReaderAt, size int64) error {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, o.ID)
		if o.ID == f.o2.ID {
			return errors.New("footer says no")
		}
		return nil
	}})
	if err != nil || len(seen) != 3 || len(rep.Problems) != 1 || rep.Problems[0].Name != dataKey(f.o2.ID) {
		t.Fatalf("hook: %v %v %v", seen, rep.Problems, err)
	}
	// A manifest claiming the wrong row count is caught by the built-in Parquet check.
	s := f.r.NewSession()
	bad := f.o1
	bad.Rows = 499
	id, err := s.Commit(ctx, &repository.Manifest{Tables: tables(bad)})
	if err != nil {
		t.Fatal(err)
	}
	rep, err = f.r.Verify(ctx, repository.VerifyOptions{ReadData: true})
	if err != nil || len(rep.Problems) != 1 || !slices.Contains(rep.Problems[0].Snapshots, id) || !strings.Contains(rep.Problems[0].Err.Error(), "rows") {
		t.Fatalf("row count: %v %v", rep.Problems, err)
	}
}
