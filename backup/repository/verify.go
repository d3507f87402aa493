package repository

import (
	"context"
	"crypto/hmac"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/parquet-go/parquet-go"
	"golang.org/x/sync/errgroup"
)

const (
	verifyHead = 64 << 10
	verifyTail = 8 << 20
)

// subsetFunc parses "n/t" or "x%" into a deterministic selector of object ids.
func subsetFunc(s string) (func(id string) bool, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return func(string) bool { return true }, nil
	}
	key := func(id string) uint32 {
		b, _ := hex.DecodeString(id[:8])
		return binary.BigEndian.Uint32(b)
	}
	if p, ok := strings.CutSuffix(s, "%"); ok {
		x, err := strconv.ParseFloat(p, 64)
		if err != nil || x <= 0 || x > 100 {
			return nil, fmt.Errorf("subset %q: want a percentage in (0, 100]", s)
		}
		lim := uint64(x / 100 * float64(1<<32))
		return func(id string) bool { return uint64(key(id)) < lim }, nil
	}
	ns, ts, ok := strings.Cut(s, "/")
	n, err1 := strconv.Atoi(ns)
	t, err2 := strconv.Atoi(ts)
	if !ok || err1 != nil || err2 != nil || t < 1 || n < 1 || n > t {
		return nil, fmt.Errorf("subset %q: want n/t with 1 <= n <= t, or x%%", s)
	}
	return func(id string) bool { return int(key(id)%uint32(t)) == n-1 }, nil
}

// sparseFile serves the head and the tail of an object, enough for a
// Parquet footer, without holding the whole object.
type sparseFile struct {
	size       int64
	head, tail []byte
}

func (s *sparseFile) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= s.size {
		return 0, io.EOF
	}
	end := off + int64(len(p))
	short := false
	if end > s.size {
		end, short = s.size, true
	}
	tailStart := s.size - int64(len(s.tail))
	var n int
	switch {
	case end <= int64(len(s.head)):
		n = copy(p, s.head[off:end])
	case off >= tailStart:
		n = copy(p, s.tail[off-tailStart:end-tailStart])
	default:
		return 0, fmt.Errorf("parquet footer larger than %d bytes: not checked", verifyTail)
	}
	if short {
		return n, io.EOF
	}
	return n, nil
}

// tailWriter keeps the first and last bytes written. When the total size is
// known in advance, it copies only the bytes of the tail window; otherwise it
// keeps a ring of the last verifyTail bytes.
type tailWriter struct {
	head []byte
	size int64 // expected total, or -1
	tail []byte
	ring []byte
	pos  int // next write position in ring
	n    int64
}

func newTailWriter(size int64) *tailWriter {
	t := &tailWriter{size: size}
	if size >= 0 {
		t.tail = make([]byte, 0, min(size, verifyTail))
	}
	return t
}

func (t *tailWriter) Write(p []byte) (int, error) {
	l := len(p)
	if len(t.head) < verifyHead {
		c := min(verifyHead-len(t.head), len(p))
		t.head = append(t.head, p[:c]...)
	}
	start := t.n
	t.n += int64(l)
	if t.size >= 0 && t.n <= t.size {
		from := t.size - int64(cap(t.tail)) // the tail window starts here
		if t.n > from {
			skip := max(0, from-start)
			t.tail = append(t.tail, p[skip:]...)
		}
		return l, nil
	}
	t.size = -1 // longer than announced: fall back to the ring
	if t.ring == nil {
		t.ring = make([]byte, verifyTail)
	}
	if len(p) > verifyTail {
		p = p[len(p)-verifyTail:]
	}
	c := copy(t.ring[t.pos:], p)
	copy(t.ring, p[c:])
	t.pos = (t.pos + len(p)) % verifyTail
	return l, nil
}

func (t *tailWriter) file() *sparseFile {
	if t.ring == nil {
		return &sparseFile{size: t.n, head: t.head, tail: t.tail}
	}
	keep := min(t.n, verifyTail)
	tail := make([]byte, 0, keep)
	if t.n >= verifyTail {
		tail = append(tail, t.ring[t.pos:]...)
	}
	tail = append(tail, t.ring[:t.pos]...)
	return &sparseFile{size: t.n, head: t.head, tail: tail}
}

type verifier struct {
	r      *repo
	opts   VerifyOptions
	mu     sync.Mutex
	rep    *Report
	users  map[string][]string           // object → snapshots referencing it directly
	rows   map[string]map[int64][]string // object → rows a manifest expects → those snapshots
	deps   map[string][]string           // snapshot → snapshots whose base it is
	broken map[string]bool
}

func (v *verifier) problem(name string, snaps []string, err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	sort.Strings(snaps)
	v.rep.Problems = append(v.rep.Problems, Problem{Name: name, Snapshots: snaps, Err: err})
}

// breaks returns the snapshots that directly or through base links depend on
// the given snapshots.
func (v *verifier) breaks(direct []string) []string {
	seen := map[string]bool{}
	var out []string
	q := append([]string(nil), direct...)
	for len(q) > 0 {
		s := q[0]
		q = q[1:]
		if seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
		q = append(q, v.deps[s]...)
	}
	return out
}

func (r *repo) verify(ctx context.Context, opts VerifyOptions) (*Report, error) {
	o := r.begin("verify", "")
	rep, err := r.verifyInner(ctx, opts, o)
	if err != nil {
		return nil, o.done(err, Event{})
	}
	return rep, o.done(nil, Event{Objects: int64(rep.ObjectsRead), Bytes: rep.BytesRead,
		Message: fmt.Sprintf("%d snapshots, %d objects, %d problems", rep.Snapshots, rep.Objects, len(rep.Problems))})
}

func (r *repo) verifyInner(ctx context.Context, opts VerifyOptions, o *op) (*Report, error) {
	sel, err := subsetFunc(opts.Subset)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	v := &verifier{r: r, opts: opts, rep: &Report{}, users: map[string][]string{}, rows: map[string]map[int64][]string{},
		deps: map[string][]string{}}

	// Config and keys.
	if cb, err := r.b.ReadAll(ctx, r.key("config")); err != nil {
		v.problem("config", nil, err)
	} else {
		var c Config
		if err := json.Unmarshal(cb, &c); err != nil {
			v.problem("config", nil, &CorruptError{Name: "config", Err: err})
		} else if c.Format != r.cfg.Format || c.ID != r.cfg.ID || c.Encryption != r.cfg.Encryption ||
			c.Compression != r.cfg.Compression || c.PartRows != r.cfg.PartRows || c.PartBytes != r.cfg.PartBytes {
			v.problem("config", nil, &CorruptError{Name: "config", Err: errors.New("changed since the repository was opened")})
		} else if r.keys != nil && !hmac.Equal([]byte(configMAC(r.keys, c)), []byte(c.MAC)) {
			v.problem("config", nil, &CorruptError{Name: "config", Err: errors.New("MAC does not match")})
		}
	}
	keyNames, err := r.listNames(ctx, "keys/")
	if err != nil {
		return nil, err
	}
	for _, n := range keyNames {
		kb, err := r.b.ReadAll(ctx, r.key(n))
		var kf keyFile
		if err == nil {
			err = json.Unmarshal(kb, &kf)
		}
		if err == nil && hexSHA(kb) != strings.TrimPrefix(n, "keys/") {
			err = errors.New("stored bytes do not match the name's hash")
		}
		if err != nil {
			v.problem(n, nil, &CorruptError{Name: n, Err: err})
		}
	}

	// Indexes, manifests, data listing.
	index, idxNames, badIdx, err := r.loadIndexes(ctx)
	if err != nil {
		return nil, err
	}
	v.rep.Indexes = len(idxNames)
	for _, e := range badIdx {
		v.problem(problemName(e), nil, e)
	}
	r.snapMu.Lock()
	r.snapCache = map[string]*Snapshot{} // verify reads what is stored now
	r.snapMu.Unlock()
	snaps, badSnaps, err := r.loadAll(ctx)
	if err != nil {
		return nil, err
	}
	for _, e := range badSnaps {
		v.problem(problemName(e), snapOf(e), e)
	}
	v.rep.Snapshots = len(snaps) + len(badSnaps)
	data, err := r.listData(ctx)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, s := range snaps {
		have[s.ID] = true
	}
	type snapRefs struct {
		s     *Snapshot
		refs  []Reference
		bases []string
	}
	var all []snapRefs
	for _, s := range snaps {
		refs, bases, err := manifestRefs(s.Manifest)
		if err != nil {
			v.problem(snapName(s.ID), []string{s.ID}, err)
			continue
		}
		all = append(all, snapRefs{s, refs, bases})
		for _, b := range bases {
			v.deps[b] = append(v.deps[b], s.ID)
		}
		for _, oid := range objectIDs(refs) {
			v.users[oid] = append(v.users[oid], s.ID)
		}
		for _, ref := range refs {
			m := v.rows[ref.Object]
			if m == nil {
				m = map[int64][]string{}
				v.rows[ref.Object] = m
			}
			if !slices.Contains(m[ref.Rows], s.ID) {
				m[ref.Rows] = append(m[ref.Rows], s.ID)
			}
		}
	}
	for _, sr := range all {
		for _, b := range sr.bases {
			if !have[b] {
				v.problem(snapName(sr.s.ID), v.breaks([]string{sr.s.ID}), fmt.Errorf("base snapshot %s: %w", b, ErrNotFound))
			}
		}
		ts, _ := parseTables(sr.s.Manifest)
		for _, t := range ts {
			if t.Rows == nil || len(t.Fingerprint) == 0 || string(t.Fingerprint) == "null" {
				v.problem(snapName(sr.s.ID), []string{sr.s.ID}, fmt.Errorf("table %s.%s: rows or fingerprint missing", t.Schema, t.Name))
			}
		}
		if err := r.verifyRetention(ctx, sr.s.ID); err != nil {
			v.problem(problemName(err), []string{sr.s.ID}, err)
		}
	}
	// Every referenced object must be indexed and present.
	objects := map[string]bool{}
	for oid := range index {
		objects[oid] = true
	}
	for oid := range v.users {
		objects[oid] = true
		name := dataName(oid)
		if _, ok := data[oid]; !ok {
			v.problem(name, v.breaks(v.users[oid]), fmt.Errorf("object %s: %w", oid, ErrNotFound))
			continue
		}
		ix, ok := index[oid]
		if !ok {
			v.problem(name, v.breaks(v.users[oid]), errors.New("referenced but named by no index"))
			continue
		}
		if ix.Stored != data[oid] {
			v.problem(name, v.breaks(v.users[oid]), &CorruptError{Name: name, Err: fmt.Errorf("stored size %d, index says %d", data[oid], ix.Stored)})
		}
	}
	v.rep.Objects = len(objects)
	for oid := range data {
		if !objects[oid] {
			v.rep.Unindexed = append(v.rep.Unindexed, oid)
		}
	}
	sort.Strings(v.rep.Unindexed)
	if err := r.verifyMisc(ctx, v); err != nil {
		return nil, err
	}
	defer func() {
		sort.SliceStable(v.rep.Problems, func(i, j int) bool { return v.rep.Problems[i].Name < v.rep.Problems[j].Name })
	}()
	if !opts.ReadData && opts.Subset == "" {
		return v.rep, nil
	}
	var toRead []string
	for oid := range objects {
		if _, ok := data[oid]; ok && sel(oid) {
			toRead = append(toRead, oid)
		}
	}
	sort.Strings(toRead)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(2, min(r.conc(), 4)))
	for _, oid := range toRead {
		g.Go(func() error {
			n, rows, err := v.readObject(gctx, oid, index[oid])
			v.mu.Lock()
			v.rep.ObjectsRead++
			v.rep.BytesRead += n
			read, bytes := v.rep.ObjectsRead, v.rep.BytesRead
			v.mu.Unlock()
			o.progress(Event{Subject: oid, Objects: int64(read), Bytes: bytes})
			if err != nil && gctx.Err() == nil {
				v.problem(dataName(oid), v.breaks(v.users[oid]), err)
			}
			if err == nil && rows >= 0 {
				for want, snaps := range v.rows[oid] {
					if want != rows {
						v.problem(dataName(oid), v.breaks(snaps), fmt.Errorf("parquet footer says %d rows, the manifest %d", rows, want))
					}
				}
			}
			return gctx.Err()
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return v.rep, nil
}

func problemName(err error) string {
	var ce *CorruptError
	if errors.As(err, &ce) {
		return ce.Name
	}
	return "?"
}

func snapOf(err error) []string {
	var ce *CorruptError
	if errors.As(err, &ce) {
		return ce.Snapshots
	}
	return nil
}

func (r *repo) verifyRetention(ctx context.Context, id string) error {
	_, err := r.records(ctx, id)
	return err
}

// verifyMisc opens marks, locks and revive entries.
func (r *repo) verifyMisc(ctx context.Context, v *verifier) error {
	if _, err := r.marks(ctx); err != nil {
		if !errors.Is(err, ErrCorrupt) {
			return err
		}
		v.problem(problemName(err), nil, err)
	}
	names, err := r.listNames(ctx, "revive/")
	if err != nil {
		return err
	}
	for _, n := range names {
		if _, _, err := r.readSealed(ctx, n, kindRevive, n); err != nil && !errors.Is(err, ErrNotFound) {
			v.problem(n, nil, err)
		}
	}
	return nil
}

// readObject reads one object to EOF (re-deriving its id) and returns its
// Parquet row count (-1 when not checked here).
func (v *verifier) readObject(ctx context.Context, oid string, ix ObjectInfo) (int64, int64, error) {
	rc, err := v.r.openObject(ctx, oid)
	if err != nil {
		return 0, -1, err
	}
	defer rc.Close()
	size := int64(-1)
	if ix.Bytes > 0 {
		size = ix.Bytes
	}
	tw := newTailWriter(size)
	n, err := io.Copy(tw, rc)
	if err != nil {
		return n, -1, err
	}
	info := ix
	info.ID = oid
	if info.Kind == "" {
		info.Kind = "parquet"
	}
	for rows := range v.rows[oid] {
		info.Rows = rows
	}
	if ix.Bytes != 0 && ix.Bytes != n {
		return n, -1, &CorruptError{Name: dataName(oid), Err: fmt.Errorf("%d plaintext bytes, index says %d", n, ix.Bytes)}
	}
	f := tw.file()
	if v.opts.CheckData != nil {
		if err := v.opts.CheckData(ctx, info, f, f.size); err != nil {
			return n, -1, fmt.Errorf("check data: %w", err)
		}
		return n, -1, nil
	}
	if info.Kind != "parquet" {
		return n, -1, nil
	}
	pf, err := parquet.OpenFile(f, f.size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return n, -1, fmt.Errorf("parquet footer: %w", err)
	}
	return n, pf.NumRows(), nil
}
