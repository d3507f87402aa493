package repository_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
	"gocloud.dev/blob/memblob"

	"github.com/dataopskit/dataops/backup/repository"
	"github.com/dataopskit/dataops/backup/repository/repotest"
)

const pass = "correct horse battery staple"

var fastKDF = &repository.KDFParams{Time: 1, MemoryKiB: 512, Threads: 1}

type backend struct {
	name string
	open func(t testing.TB) *blob.Bucket
}

func backends() []backend {
	return []backend{
		{"file", func(t testing.TB) *blob.Bucket {
			b, err := fileblob.OpenBucket(t.TempDir(), nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { b.Close() })
			return b
		}},
		{"mem", func(t testing.TB) *blob.Bucket {
			b := memblob.OpenBucket(nil)
			t.Cleanup(func() { b.Close() })
			return b
		}},
		{"s3", func(t testing.TB) *blob.Bucket {
			b, _ := repotest.S3(t, "backups")
			return b
		}},
	}
}

// forEach runs f on every backend, unencrypted and encrypted.
func forEach(t *testing.T, f func(t *testing.T, b *blob.Bucket, passphrase string)) {
	for _, be := range backends() {
		for _, enc := range []bool{false, true} {
			name := be.name + "/plain"
			p := ""
			if enc {
				name, p = be.name+"/encrypted", pass
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				f(t, be.open(t), p)
			})
		}
	}
}

func initRepo(t testing.TB, b *blob.Bucket, prefix, passphrase string) *repository.Repository {
	t.Helper()
	r, err := repository.InitBucket(context.Background(), b, prefix, repository.InitOptions{
		Options: repository.Options{Passphrase: passphrase, LockWait: time.Minute}, KDFParams: fastKDF})
	if err != nil {
		t.Fatalf("init: %v", err)
	}
	return r
}

type row struct {
	ID   int64  `parquet:"id"`
	Name string `parquet:"name"`
}

// writeParquet writes n rows starting at id from into a new file.
func writeParquet(t testing.TB, dir string, from, n int) string {
	t.Helper()
	rows := make([]row, n)
	for i := range rows {
		rows[i] = row{ID: int64(from + i), Name: fmt.Sprintf("name-%d", from+i)}
	}
	p := filepath.Join(dir, fmt.Sprintf("part-%d-%d.parquet", from, n))
	if err := parquet.WriteFile(p, rows); err != nil {
		t.Fatal(err)
	}
	return p
}

// tables builds a §7 tables value with one full table of the given parts.
func tables(parts ...repository.ObjectInfo) json.RawMessage {
	type part struct {
		ID   string `json:"id"`
		Rows int64  `json:"rows"`
	}
	var ps []part
	var n int64
	for _, p := range parts {
		ps = append(ps, part{p.ID, p.Rows})
		n += p.Rows
	}
	b, _ := json.Marshal([]any{map[string]any{
		"schema": "raw", "name": "orders", "kind": "table", "rows": n,
		"columns":     []any{map[string]any{"name": "id", "type": "integer"}},
		"fingerprint": map[string]any{"count": n, "sum": "0000000000000000", "xor": "0000000000000000"},
		"data":        map[string]any{"mode": "full", "parts": ps},
	}})
	return b
}

// deltaTables builds a table entry of mode delta on base.
func deltaTables(base string, upserts ...repository.ObjectInfo) json.RawMessage {
	var ps []any
	for _, p := range upserts {
		ps = append(ps, map[string]any{"id": p.ID, "rows": p.Rows})
	}
	b, _ := json.Marshal([]any{map[string]any{
		"schema": "raw", "name": "orders", "kind": "table", "rows": 1,
		"fingerprint": map[string]any{"count": 1},
		"data":        map[string]any{"mode": "delta", "base": base, "upserts": ps, "deletes": []any{}},
	}})
	return b
}

// backup stores files and commits a full snapshot of them.
func backup(t testing.TB, r *repository.Repository, when time.Time, tags []string, files ...string) (string, []repository.ObjectInfo) {
	t.Helper()
	ctx := context.Background()
	s := r.NewSession()
	var infos []repository.ObjectInfo
	for _, f := range files {
		pf, err := parquet.OpenFile(mustOpen(t, f))
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.PutFile(ctx, f, repository.ObjectMeta{Rows: pf.NumRows()})
		if err != nil {
			t.Fatalf("put %s: %v", f, err)
		}
		infos = append(infos, info)
	}
	id, err := s.Commit(ctx, &repository.Manifest{Time: when, Kind: "full", Tags: tags, Tables: tables(infos...)})
	if err != nil {
		t.Fatalf("commit: %v", err)
	}
	return id, infos
}

func mustOpen(t testing.TB, path string) (io.ReaderAt, int64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, _ := f.Stat()
	return f, st.Size()
}

func TestRoundTripOnEveryBackend(t *testing.T) {
	forEach(t, func(t *testing.T, b *blob.Bucket, passphrase string) {
		ctx := context.Background()
		dir := t.TempDir()
		var events []repository.Event
		r, err := repository.InitBucket(ctx, b, "repo", repository.InitOptions{
			Options: repository.Options{Passphrase: passphrase}, KDFParams: fastKDF})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := repository.InitBucket(ctx, b, "repo", repository.InitOptions{}); !errors.Is(err, repository.ErrExists) {
			t.Fatalf("second init: %v, want ErrExists", err)
		}
		if r.Encrypted() != (passphrase != "") {
			t.Fatalf("encrypted = %v", r.Encrypted())
		}
		f1 := writeParquet(t, dir, 0, 1000)
		f2 := writeParquet(t, dir, 1000, 10)
		t0 := time.Date(2026, 11, 1, 10, 0, 0, 123456789, time.UTC)
		id1, infos := backup(t, r, t0, []string{"nightly"}, f1, f2)
		if !infos[0].Uploaded || infos[0].Rows != 1000 || infos[0].Stored == 0 {
			t.Fatalf("first put: %+v", infos[0])
		}
		// Same content again: deduplicated, same id.
		again, err := r.PutFile(ctx, f1, repository.ObjectMeta{Rows: 1000})
		if err != nil || again.Uploaded || again.ID != infos[0].ID {
			t.Fatalf("dedup: %+v %v", again, err)
		}
		id2, _ := backup(t, r, t0.Add(24*time.Hour), nil, f1)

		// Reopen: the passphrase matters.
		if passphrase != "" {
			if _, err := repository.OpenBucket(ctx, b, "repo", repository.OpenOptions{Options: repository.Options{Passphrase: "wrong"}}); !errors.Is(err, repository.ErrWrongPassphrase) {
				t.Fatalf("wrong passphrase: %v", err)
			}
		}
		r2, err := repository.OpenBucket(ctx, b, "repo", repository.OpenOptions{Options: repository.Options{Passphrase: passphrase,
			Events: func(e repository.Event) { events = append(events, e) }}})
		if err != nil {
			t.Fatal(err)
		}
		snaps, err := r2.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(snaps) != 2 || snaps[0].ID != id1 || snaps[1].ID != id2 {
			t.Fatalf("list: %+v", snaps)
		}
		if !snaps[0].Time.Equal(t0.Truncate(time.Microsecond)) || snaps[0].Tags[0] != "nightly" || snaps[0].Tables[0] != "raw.orders" {
			t.Fatalf("snapshot info: %+v", snaps[0])
		}
		s, err := r2.LoadManifest(ctx, id1[:6])
		if err != nil || s.ID != id1 {
			t.Fatalf("load by prefix: %v", err)
		}
		refs, _, err := s.Manifest.References()
		if err != nil || len(refs) != 2 || refs[0].Object != infos[0].ID || refs[0].Rows != 1000 {
			t.Fatalf("references: %+v %v", refs, err)
		}
		// Fetch gives the same bytes back.
		out := filepath.Join(dir, "out.parquet")
		if err := r2.FetchFile(ctx, infos[0].ID, out); err != nil {
			t.Fatal(err)
		}
		want, _ := os.ReadFile(f1)
		got, _ := os.ReadFile(out)
		if !bytes.Equal(want, got) {
			t.Fatalf("fetched %d bytes, want %d identical", len(got), len(want))
		}
		rep, err := r2.Verify(ctx, repository.VerifyOptions{ReadData: true})
		if err != nil || !rep.OK() || rep.ObjectsRead != 2 || rep.Snapshots != 2 {
			t.Fatalf("verify: %+v %v", rep, err)
		}
		var fin bool
		for _, e := range events {
			fin = fin || (e.Op == "verify" && e.Phase == repository.PhaseFinish && e.Bytes == rep.BytesRead)
		}
		if !fin {
			t.Fatalf("no verify finish event with bytes among %d events", len(events))
		}

		// Forget the first snapshot; f2's object becomes garbage; two prunes delete it.
		if err := r2.Delete(ctx, id1[:8], repository.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := r2.LoadManifest(ctx, id1); !errors.Is(err, repository.ErrNotFound) {
			t.Fatalf("deleted snapshot loads: %v", err)
		}
		pr, err := r2.Prune(ctx, repository.PruneOptions{SafetyWindow: -1})
		if err != nil || len(pr.Marked) != 1 || pr.Marked[0] != infos[1].ID || len(pr.Deleted) != 0 {
			t.Fatalf("prune mark: %+v %v", pr, err)
		}
		if ok, _ := r2.HasObject(ctx, infos[1].ID); !ok {
			t.Fatal("mark deleted an object")
		}
		pr, err = r2.Prune(ctx, repository.PruneOptions{SafetyWindow: -1})
		if err != nil || len(pr.Deleted) != 1 || pr.Deleted[0] != infos[1].ID || pr.DeletedBytes == 0 {
			t.Fatalf("prune sweep: %+v %v", pr, err)
		}
		if ok, _ := r2.HasObject(ctx, infos[1].ID); ok {
			t.Fatal("swept object still exists")
		}
		if ok, _ := r2.HasObject(ctx, infos[0].ID); !ok {
			t.Fatal("prune deleted a referenced object")
		}
		rep, err = r2.Verify(ctx, repository.VerifyOptions{ReadData: true})
		if err != nil || !rep.OK() || rep.ObjectsRead != 1 {
			t.Fatalf("verify after prune: %+v %v", rep, err)
		}
	})
}

func TestOpenURL(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	u := "file://" + dir + "/repo"
	r, err := repository.Init(ctx, u, repository.InitOptions{Options: repository.Options{Passphrase: pass}, KDF: repository.KDFScrypt,
		KDFParams: &repository.KDFParams{N: 1024, R: 8, P: 1}})
	if err != nil {
		t.Fatal(err)
	}
	id, _ := backup(t, r, time.Now(), nil, writeParquet(t, dir, 0, 5))
	r.Close()
	r, err = repository.Open(ctx, u, repository.OpenOptions{Options: repository.Options{Passphrase: pass}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.LoadManifest(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := repository.Open(ctx, "file://"+dir, repository.OpenOptions{}); !errors.Is(err, repository.ErrNotRepository) {
		t.Fatalf("open non-repository: %v", err)
	}
	if _, err := repository.Open(ctx, "mem://", repository.OpenOptions{}); !errors.Is(err, repository.ErrNotRepository) {
		t.Fatalf("open empty mem: %v", err)
	}
}

func TestChangePassphrase(t *testing.T) {
	ctx := context.Background()
	b := memblob.OpenBucket(nil)
	r := initRepo(t, b, "", pass)
	id, _ := backup(t, r, time.Now(), nil, writeParquet(t, t.TempDir(), 0, 5))
	if err := r.ChangePassphrase(ctx, "new one", "", fastKDF); err != nil {
		t.Fatal(err)
	}
	if _, err := repository.OpenBucket(ctx, b, "", repository.OpenOptions{Options: repository.Options{Passphrase: pass}}); !errors.Is(err, repository.ErrWrongPassphrase) {
		t.Fatalf("old passphrase: %v", err)
	}
	r2, err := repository.OpenBucket(ctx, b, "", repository.OpenOptions{Options: repository.Options{Passphrase: "new one"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r2.LoadManifest(ctx, id); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefusesForeignNewerAndTampered(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		enc    bool
		config func(map[string]any) // nil: replace with garbage
		want   error
	}{
		{"newer format", false, func(c map[string]any) { c["format"] = repository.FormatVersion + 1 }, repository.ErrNewerFormat},
		{"format 1 still opens", false, func(c map[string]any) { c["format"] = 1 }, nil},
		{"foreign json", false, func(c map[string]any) { clear(c); c["hello"] = "world" }, repository.ErrNotRepository},
		{"garbage", false, nil, repository.ErrNotRepository},
		{"downgrade to none", true, func(c map[string]any) { c["encryption"] = "none"; delete(c, "mac") }, repository.ErrCorrupt},
		{"part size changed", true, func(c map[string]any) { c["part_rows"] = 5 }, repository.ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := memblob.OpenBucket(nil)
			p := ""
			if tc.enc {
				p = pass
			}
			initRepo(t, b, "", p)
			cb, _ := b.ReadAll(ctx, "config")
			if tc.config == nil {
				cb = []byte("not json")
			} else {
				var c map[string]any
				json.Unmarshal(cb, &c)
				tc.config(c)
				cb, _ = json.Marshal(c)
			}
			b.WriteAll(ctx, "config", cb, nil)
			_, err := repository.OpenBucket(ctx, b, "", repository.OpenOptions{Options: repository.Options{Passphrase: p}})
			if !errors.Is(err, tc.want) {
				t.Fatalf("open: %v, want %v", err, tc.want)
			}
		})
	}
}

func TestAmbiguousPrefix(t *testing.T) {
	ctx := context.Background()
	r := initRepo(t, memblob.OpenBucket(nil), "", "")
	// Commit metadata-only snapshots until two ids share 4 hex digits
	// (birthday bound: a few hundred).
	seen := map[string]string{}
	var a, b string
	for i := 0; i < 5000 && a == ""; i++ {
		id, err := r.NewSession().Commit(ctx, &repository.Manifest{Time: time.Unix(int64(1e9+i), 0)})
		if err != nil {
			t.Fatal(err)
		}
		if other, ok := seen[id[:4]]; ok {
			a, b = other, id
		}
		seen[id[:4]] = id
	}
	if a == "" {
		t.Fatal("no 4-digit collision in 5000 snapshots")
	}
	if _, err := r.ResolveID(ctx, a[:4]); !errors.Is(err, repository.ErrAmbiguous) {
		t.Fatalf("ambiguous prefix %s: %v", a[:4], err)
	}
	if _, err := r.ResolveID(ctx, a[:3]); !errors.Is(err, repository.ErrNotFound) {
		t.Fatalf("3-digit prefix: %v", err)
	}
	n := 5
	for a[:n] == b[:n] {
		n++
	}
	if got, err := r.ResolveID(ctx, strings.ToUpper(a[:n])); err != nil || got != a {
		t.Fatalf("resolve %s: %v %v", a[:n], got, err)
	}
	if _, err := r.LoadManifest(ctx, "0000000000000000000000000000000000000000000000000000000000000000"); !errors.Is(err, repository.ErrNotFound) {
		t.Fatalf("missing id: %v", err)
	}
}

func TestOpenS3URL(t *testing.T) {
	ctx := context.Background()
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	u := "s3://backups?endpoint=" + repotest.S3Endpoint(t, "backups") + "&use_path_style=true&region=us-east-1&prefix=team/wh/"
	r, err := repository.Init(ctx, u, repository.InitOptions{Options: repository.Options{Passphrase: pass}, KDFParams: fastKDF})
	if err != nil {
		t.Fatal(err)
	}
	id, _ := backup(t, r, time.Now(), nil, writeParquet(t, t.TempDir(), 0, 5))
	r.Close()
	r, err = repository.Open(ctx, u, repository.OpenOptions{Options: repository.Options{Passphrase: pass}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rep, err := r.Verify(ctx, repository.VerifyOptions{ReadData: true})
	if err != nil || !rep.OK() || rep.Snapshots != 1 {
		t.Fatalf("verify over s3 URL: %+v %v", rep, err)
	}
	if _, err := r.LoadManifest(ctx, id); err != nil {
		t.Fatal(err)
	}
}

func TestFailedCommitWritesNothing(t *testing.T) {
	ctx := context.Background()
	b := memblob.OpenBucket(nil)
	r := initRepo(t, b, "", pass)
	ghost := repository.ObjectInfo{ID: strings.Repeat("ab", 32), Rows: 1}
	for name, m := range map[string]*repository.Manifest{
		"missing object": {Tables: tables(ghost)},
		"missing base":   {Tables: deltaTables(strings.Repeat("cd", 32))},
		"missing parent": {Parent: strings.Repeat("ef", 32)},
		"bad tables":     {Tables: json.RawMessage(`[{"schema":"raw","name":"t","data":{"mode":"sideways"}}]`)},
	} {
		_, err := r.NewSession().Commit(ctx, m)
		if err == nil {
			t.Fatalf("%s: committed", name)
		}
		if name != "bad tables" && !errors.Is(err, repository.ErrNotFound) {
			t.Fatalf("%s: %v", name, err)
		}
		if keys := listKeys(t, b, ""); len(keys) != 2 { // config and the key file
			t.Fatalf("%s: left %v", name, keys)
		}
	}
	// An object stored by a backup that never committed is unindexed, not a
	// problem, and prune removes it.
	orphan, err := r.PutBytes(ctx, []byte("orphan"), repository.ObjectMeta{Kind: "raw"})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := r.Verify(ctx, repository.VerifyOptions{ReadData: true})
	if err != nil || !rep.OK() || len(rep.Unindexed) != 1 || rep.Unindexed[0] != orphan.ID {
		t.Fatalf("orphan: %+v %v", rep, err)
	}
	for range 2 {
		if _, err := r.Prune(ctx, repository.PruneOptions{SafetyWindow: -1}); err != nil {
			t.Fatal(err)
		}
	}
	if ok, _ := r.HasObject(ctx, orphan.ID); ok {
		t.Fatal("orphan survived prune")
	}
}
