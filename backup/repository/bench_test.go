package repository_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/parquet-go/parquet-go"
	"gocloud.dev/blob/fileblob"

	"github.com/dataopskit/dataops/backup/repository"
)

// benchFile writes size bytes of incompressible data (as Parquet parts are).
func benchFile(b *testing.B, dir string, size int64) string {
	b.Helper()
	p := filepath.Join(dir, "big.bin")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.CopyN(f, rand.Reader, size); err != nil {
		b.Fatal(err)
	}
	f.Close()
	return p
}

// BenchmarkPutFileBaseline is the physical baseline of BenchmarkPutFile:
// io.Copy of the same 256 MiB file to another local file.
func BenchmarkPutFileBaseline(b *testing.B) {
	dir := b.TempDir()
	src := benchFile(b, dir, 256<<20)
	b.SetBytes(256 << 20)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		in, _ := os.Open(src)
		out, _ := os.Create(filepath.Join(dir, "copy.bin"))
		if _, err := io.Copy(out, in); err != nil {
			b.Fatal(err)
		}
		in.Close()
		if err := out.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPutFile stores a 256 MiB file into a repository on the local disk
// (fileblob): hash pass, then zstd (+ AES-GCM) sealed upload.
func BenchmarkPutFile(b *testing.B) {
	plainAndEncrypted(b, func(b *testing.B, enc string) {
		dir := b.TempDir()
		src := benchFile(b, dir, 256<<20)
		bucket, err := fileblob.OpenBucket(dir, &fileblob.Options{Metadata: fileblob.MetadataDontWrite})
		if err != nil {
			b.Fatal(err)
		}
		defer bucket.Close()
		ctx := context.Background()
		b.SetBytes(256 << 20)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			prefix := fmt.Sprintf("repo%d", i)
			r, err := repository.InitBucket(ctx, bucket, prefix, repository.InitOptions{Options: repository.Options{Passphrase: enc}, KDFParams: fastKDF})
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			info, err := r.PutFile(ctx, src, repository.ObjectMeta{Kind: "raw"})
			if err != nil || !info.Uploaded {
				b.Fatal(info, err)
			}
			b.StopTimer()
			os.RemoveAll(filepath.Join(dir, prefix))
			b.StartTimer()
		}
	})
}

type blobRow struct {
	ID      int64  `parquet:"id"`
	Payload []byte `parquet:"payload"`
}

// BenchmarkVerifyReadData verifies a repository holding 4 Parquet parts of
// 32 MiB each with --read-data: read, open, re-derive ids, check footers.
func BenchmarkVerifyReadData(b *testing.B) {
	plainAndEncrypted(b, func(b *testing.B, enc string) {
		dir := b.TempDir()
		bucket, err := fileblob.OpenBucket(dir, &fileblob.Options{Metadata: fileblob.MetadataDontWrite})
		if err != nil {
			b.Fatal(err)
		}
		defer bucket.Close()
		ctx := context.Background()
		r, err := repository.InitBucket(ctx, bucket, "repo", repository.InitOptions{Options: repository.Options{Passphrase: enc}, KDFParams: fastKDF})
		if err != nil {
			b.Fatal(err)
		}
		s := r.NewSession()
		var infos []repository.ObjectInfo
		var total int64
		for p := range 4 {
			rows := make([]blobRow, 32<<10)
			for i := range rows {
				rows[i] = blobRow{ID: int64(p<<20 + i), Payload: make([]byte, 1024)}
				rand.Read(rows[i].Payload)
			}
			path := filepath.Join(dir, fmt.Sprintf("part%d.parquet", p))
			if err := parquet.WriteFile(path, rows); err != nil {
				b.Fatal(err)
			}
			info, err := s.PutFile(ctx, path, repository.ObjectMeta{Rows: int64(len(rows))})
			if err != nil {
				b.Fatal(err)
			}
			os.Remove(path)
			infos = append(infos, info)
			total += info.Bytes
		}
		if _, err := s.Commit(ctx, &repository.Manifest{Tables: tables(infos...)}); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(total)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			rep, err := r.Verify(ctx, repository.VerifyOptions{ReadData: true})
			if err != nil || !rep.OK() || rep.BytesRead != total {
				b.Fatal(rep, err)
			}
		}
	})
}

// BenchmarkReadBaseline reads the stored bytes of the same kind of objects
// straight from disk: the floor for BenchmarkVerifyReadData.
func BenchmarkReadBaseline(b *testing.B) {
	dir := b.TempDir()
	src := benchFile(b, dir, 128<<20)
	b.SetBytes(128 << 20)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f, _ := os.Open(src)
		if _, err := io.Copy(io.Discard, f); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}

func plainAndEncrypted(b *testing.B, f func(b *testing.B, passphrase string)) {
	b.Run("plain", func(b *testing.B) { f(b, "") })
	b.Run("encrypted", func(b *testing.B) { f(b, pass) })
}
