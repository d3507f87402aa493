package repository

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/klauspost/compress/zstd"
	"gocloud.dev/blob"
)

// newIDHash returns the hash that derives object ids (FORMAT.md §4).
func (r *repo) newIDHash() hash.Hash {
	if r.keys != nil {
		return hmac.New(sha256.New, r.keys.ID)
	}
	return sha256.New()
}

func validID(id string) bool {
	if len(id) != 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func dataName(id string) string { return "data/" + id[:2] + "/" + id }

func (r *repo) hasObject(ctx context.Context, id string) (bool, error) {
	if !validID(id) {
		return false, fmt.Errorf("object id %q: not a 64-digit hex id", id)
	}
	ok, err := r.b.Exists(ctx, r.key(dataName(id)))
	if err != nil {
		return false, fmt.Errorf("object %s: %w", id, err)
	}
	return ok, nil
}

func (r *repo) putFile(ctx context.Context, path string, meta ObjectMeta) (ObjectInfo, error) {
	o := r.begin("put", path)
	info, err := r.putFileInner(ctx, path, meta)
	return info, o.done(err, Event{Subject: info.ID, Rows: info.Rows, Bytes: info.Bytes, Objects: 1, Message: path})
}

func (r *repo) putFileInner(ctx context.Context, path string, meta ObjectMeta) (ObjectInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("put %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("put %s: %w", path, err)
	}
	h := r.newIDHash()
	n, err := io.Copy(h, f)
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("put %s: read: %w", path, err)
	}
	id := hex.EncodeToString(h.Sum(nil))
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return ObjectInfo{}, fmt.Errorf("put %s: %w", path, err)
	}
	unchanged := func() bool {
		st2, err := f.Stat()
		return err == nil && st2.Size() == st.Size() && st2.ModTime().Equal(st.ModTime()) && st.Size() == n
	}
	info, err := r.upload(ctx, id, io.LimitReader(f, n+1), n, meta, false, unchanged)
	if err != nil {
		return info, fmt.Errorf("put %s: %w", path, err)
	}
	return info, nil
}

func (r *repo) putBytes(ctx context.Context, data []byte, meta ObjectMeta) (ObjectInfo, error) {
	o := r.begin("put", "")
	h := r.newIDHash()
	h.Write(data)
	id := hex.EncodeToString(h.Sum(nil))
	info, err := r.upload(ctx, id, bytes.NewReader(data), int64(len(data)), meta, false, nil)
	return info, o.done(err, Event{Subject: id, Rows: info.Rows, Bytes: info.Bytes, Objects: 1})
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// upload stores plaintext src (size bytes, hashing to id) as data object id
// unless it exists (or force). With unchanged == nil the content is re-hashed
// while streaming; otherwise unchanged (e.g. a file's size and mtime) is asked
// after streaming. Either way the write is abandoned if the source changed.
func (r *repo) upload(ctx context.Context, id string, src io.Reader, size int64, meta ObjectMeta, force bool, unchanged func() bool) (ObjectInfo, error) {
	if meta.Kind == "" {
		meta.Kind = "parquet"
	}
	info := ObjectInfo{ID: id, Kind: meta.Kind, Rows: meta.Rows, Bytes: size, Created: r.now().UTC().Truncate(time.Microsecond)}
	name := dataName(id)
	if !force {
		attrs, err := r.b.Attributes(ctx, r.key(name))
		if err == nil {
			info.Stored = attrs.Size
			return info, nil
		}
		if !isNotFound(err) {
			return info, fmt.Errorf("object %s: %w", id, err)
		}
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	bw, err := r.b.NewWriter(wctx, r.key(name), &blob.WriterOptions{ContentType: "application/octet-stream", BufferSize: 8 << 20})
	if err != nil {
		return info, fmt.Errorf("object %s: %w", id, err)
	}
	cw := &countWriter{w: bw}
	// Parquet compresses its pages itself: a second zstd pass costs time
	// and saves next to nothing, so Parquet objects are stored uncompressed.
	level := zstd.SpeedFastest
	if meta.Kind == "parquet" {
		level = noCompression
	}
	sw, err := newSealWriter(cw, r.keys, kindData, name, level)
	if err != nil {
		cancel()
		bw.Close()
		return info, err
	}
	var h hash.Hash
	if unchanged == nil {
		h = r.newIDHash()
		src = io.TeeReader(src, h)
	}
	n, err := io.Copy(sw, src)
	if err == nil {
		err = sw.Close()
	}
	if err == nil && (n != size || (h != nil && hex.EncodeToString(h.Sum(nil)) != id) || (unchanged != nil && !unchanged())) {
		err = fmt.Errorf("object %s: the source changed while it was stored", id)
	}
	if err != nil {
		cancel() // abandons the write
		bw.Close()
		return info, err
	}
	if err := bw.Close(); err != nil {
		return info, fmt.Errorf("object %s: %w", id, err)
	}
	info.Stored = cw.n
	info.Uploaded = true
	return info, nil
}

// objectReader yields plaintext and checks the id at EOF.
type objectReader struct {
	name string
	id   string
	rc   io.ReadCloser
	br   *blob.Reader
	h    hash.Hash
	n    int64
	err  error
}

func (o *objectReader) Read(p []byte) (int, error) {
	if o.err != nil {
		return 0, o.err
	}
	n, err := o.rc.Read(p)
	o.h.Write(p[:n])
	o.n += int64(n)
	if err == io.EOF {
		if got := hex.EncodeToString(o.h.Sum(nil)); got != o.id {
			err = &CorruptError{Name: o.name, Err: fmt.Errorf("content does not match its id (read %d bytes)", o.n)}
		}
	} else if err != nil {
		var ue *unsealError
		if errors.As(err, &ue) {
			err = &CorruptError{Name: o.name, Err: ue.err}
		} else {
			err = fmt.Errorf("read %s: %w", o.name, err)
		}
	}
	if err != nil {
		o.err = err
	}
	return n, err
}

func (o *objectReader) Close() error {
	o.rc.Close()
	return o.br.Close()
}

func (r *repo) openObject(ctx context.Context, id string) (io.ReadCloser, error) {
	if !validID(id) {
		return nil, fmt.Errorf("object id %q: not a 64-digit hex id: %w", id, ErrNotFound)
	}
	name := dataName(id)
	br, err := r.b.NewReader(ctx, r.key(name), nil)
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("object %s: %w", id, ErrNotFound)
		}
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	rc, err := openSealed(br, r.keys, kindData, name)
	if err != nil {
		br.Close()
		var ue *unsealError
		if errors.As(err, &ue) {
			return nil, &CorruptError{Name: name, Err: ue.err}
		}
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	return &objectReader{name: name, id: id, rc: rc, br: br, h: r.newIDHash()}, nil
}

func (r *repo) fetchFile(ctx context.Context, id, dst string) error {
	o := r.begin("fetch", id)
	n, err := r.fetchInner(ctx, id, dst)
	return o.done(err, Event{Bytes: n, Objects: 1, Message: dst})
}

func (r *repo) fetchInner(ctx context.Context, id, dst string) (int64, error) {
	rc, err := r.openObject(ctx, id)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".part*")
	if err != nil {
		return 0, fmt.Errorf("fetch %s: %w", id, err)
	}
	n, err := io.Copy(tmp, rc)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), dst)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return n, err
	}
	return n, nil
}

// indexFile is an index/<index-id> file (FORMAT.md §6).
type indexFile struct {
	Objects []ObjectInfo `json:"objects"`
}

func (r *repo) writeIndex(ctx context.Context, objs []ObjectInfo) error {
	if len(objs) == 0 {
		return nil
	}
	b, err := canonicalJSON(indexFile{Objects: objs})
	if err != nil {
		return err
	}
	_, err = r.writeHashed(ctx, "index/", kindIndex, b)
	return err
}

// loadIndexes reads every index file: object id → info, and the index names.
// Unreadable index files are returned in bad.
func (r *repo) loadIndexes(ctx context.Context) (objs map[string]ObjectInfo, names []string, bad []error, err error) {
	names, err = r.listNames(ctx, "index/")
	if err != nil {
		return nil, nil, nil, err
	}
	objs = map[string]ObjectInfo{}
	for _, n := range names {
		plain, err := r.readHashed(ctx, n, kindIndex)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNotFound) {
				return nil, nil, nil, err
			}
			bad = append(bad, err)
			continue
		}
		var f indexFile
		if err := json.Unmarshal(plain, &f); err != nil {
			bad = append(bad, &CorruptError{Name: n, Err: err})
			continue
		}
		for _, o := range f.Objects {
			if !validID(o.ID) {
				bad = append(bad, &CorruptError{Name: n, Err: fmt.Errorf("bad object id %q", o.ID)})
				continue
			}
			objs[o.ID] = o
		}
	}
	return objs, names, bad, nil
}

// listData lists the data objects in the bucket: id → stored size.
func (r *repo) listData(ctx context.Context) (map[string]int64, error) {
	out := map[string]int64{}
	err := r.list2(ctx, "data/", func(name string, o *blob.ListObject) error {
		id := filepath.Base(name)
		if validID(id) && name == dataName(id) {
			out[id] = o.Size
		}
		return nil
	})
	return out, err
}
