package repository

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// canonicalJSON encodes v with sorted keys and no insignificant space.
func canonicalJSON(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return canonicalize(b)
}

func canonicalize(b []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(x); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

type retentionJSON struct {
	LockUntil  *time.Time    `json:"lock_until"`
	Mode       RetentionMode `json:"mode,omitempty"`
	LegalHolds []string      `json:"legal_holds,omitempty"`
}

// MarshalJSON writes a zero LockUntil as null.
func (r Retention) MarshalJSON() ([]byte, error) {
	j := retentionJSON{Mode: r.Mode, LegalHolds: r.LegalHolds}
	if !r.LockUntil.IsZero() {
		t := r.LockUntil.UTC()
		j.LockUntil = &t
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads null lock_until as zero.
func (r *Retention) UnmarshalJSON(b []byte) error {
	var j retentionJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*r = Retention{Mode: j.Mode, LegalHolds: j.LegalHolds}
	if j.LockUntil != nil {
		r.LockUntil = *j.LockUntil
	}
	return nil
}

type manifestJSON struct {
	Format      int             `json:"format"`
	Time        time.Time       `json:"time"`
	Parent      *string         `json:"parent"`
	Kind        string          `json:"kind"`
	Source      json.RawMessage `json:"source,omitempty"`
	Host        string          `json:"host,omitempty"`
	Tags        []string        `json:"tags"`
	Consistency string          `json:"consistency,omitempty"`
	Tables      json.RawMessage `json:"tables"`
	Retention   Retention       `json:"retention"`
}

// MarshalJSON writes an empty Parent as null and empty Tags and Tables as [].
func (m Manifest) MarshalJSON() ([]byte, error) {
	j := manifestJSON{Format: m.Format, Time: m.Time, Kind: m.Kind, Source: m.Source, Host: m.Host,
		Tags: m.Tags, Consistency: m.Consistency, Tables: m.Tables, Retention: m.Retention}
	if m.Parent != "" {
		p := m.Parent
		j.Parent = &p
	}
	if j.Tags == nil {
		j.Tags = []string{}
	}
	if len(j.Tables) == 0 {
		j.Tables = json.RawMessage("[]")
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads a null parent as "".
func (m *Manifest) UnmarshalJSON(b []byte) error {
	var j manifestJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*m = Manifest{Format: j.Format, Time: j.Time, Kind: j.Kind, Source: j.Source, Host: j.Host,
		Tags: j.Tags, Consistency: j.Consistency, Tables: j.Tables, Retention: j.Retention}
	if j.Parent != nil {
		m.Parent = *j.Parent
	}
	return nil
}

type partRef struct {
	ID   string `json:"id"`
	Rows int64  `json:"rows"`
}

type tableRef struct {
	Schema      string          `json:"schema"`
	Name        string          `json:"name"`
	Rows        *int64          `json:"rows"`
	Fingerprint json.RawMessage `json:"fingerprint"`
	Data        *struct {
		Mode    string    `json:"mode"`
		Base    string    `json:"base"`
		Parts   []partRef `json:"parts"`
		Upserts []partRef `json:"upserts"`
		Deletes []partRef `json:"deletes"`
	} `json:"data"`
}

func parseTables(m *Manifest) ([]tableRef, error) {
	if len(m.Tables) == 0 || string(m.Tables) == "null" {
		return nil, nil
	}
	var ts []tableRef
	if err := json.Unmarshal(m.Tables, &ts); err != nil {
		return nil, fmt.Errorf("tables: %w", err)
	}
	return ts, nil
}

func manifestRefs(m *Manifest) ([]Reference, []string, error) {
	ts, err := parseTables(m)
	if err != nil {
		return nil, nil, &CorruptError{Name: "manifest", Err: err}
	}
	var refs []Reference
	var bases []string
	seenBase := map[string]bool{}
	for i, t := range ts {
		tn := t.Schema + "." + t.Name
		bad := func(format string, a ...any) error {
			return &CorruptError{Name: "manifest", Err: fmt.Errorf("table %d (%s): %s", i, tn, fmt.Sprintf(format, a...))}
		}
		if t.Data == nil {
			return nil, nil, bad("no data")
		}
		d := t.Data
		add := func(role string, ps []partRef) error {
			for _, p := range ps {
				if !validID(p.ID) {
					return bad("%s: bad object id %q", role, p.ID)
				}
				refs = append(refs, Reference{Object: p.ID, Table: tn, Role: role, Rows: p.Rows})
			}
			return nil
		}
		switch d.Mode {
		case "full":
			if d.Base != "" || len(d.Upserts)+len(d.Deletes) > 0 {
				return nil, nil, bad("full data with base, upserts or deletes")
			}
		case "delta", "same":
			if !validID(d.Base) {
				return nil, nil, bad("%s data with bad base %q", d.Mode, d.Base)
			}
			if d.Mode == "same" && len(d.Parts)+len(d.Upserts)+len(d.Deletes) > 0 {
				return nil, nil, bad("same data with parts")
			}
			if d.Mode == "delta" && len(d.Parts) > 0 {
				return nil, nil, bad("delta data with parts")
			}
			if !seenBase[d.Base] {
				seenBase[d.Base] = true
				bases = append(bases, d.Base)
			}
		default:
			return nil, nil, bad("unknown data mode %q", d.Mode)
		}
		for _, x := range []struct {
			role string
			ps   []partRef
		}{{"parts", d.Parts}, {"upserts", d.Upserts}, {"deletes", d.Deletes}} {
			if err := add(x.role, x.ps); err != nil {
				return nil, nil, err
			}
		}
	}
	return refs, bases, nil
}

// objectIDs returns the distinct object ids of refs.
func objectIDs(refs []Reference) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range refs {
		if !seen[r.Object] {
			seen[r.Object] = true
			out = append(out, r.Object)
		}
	}
	return out
}

// encodeManifest returns the canonical bytes and id of m.
func encodeManifest(m *Manifest) ([]byte, string, error) {
	b, err := canonicalJSON(m)
	if err != nil {
		return nil, "", fmt.Errorf("manifest: %w", err)
	}
	return b, hexSHA(b), nil
}

func snapName(id string) string { return "snapshots/" + id }

// sessionObject remembers where a session's object came from, to re-upload it.
type sessionObject struct {
	info ObjectInfo
	path string
	data []byte
}

type sessionMu = sync.Mutex

func (s *Session) record(info ObjectInfo, path string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objs[info.ID] = &sessionObject{info: info, path: path, data: data}
}

func (s *Session) putFile(ctx context.Context, path string, meta ObjectMeta) (ObjectInfo, error) {
	info, err := s.r.putFile(ctx, path, meta)
	if err == nil {
		s.record(info, path, nil)
	}
	return info, err
}

func (s *Session) putBytes(ctx context.Context, data []byte, meta ObjectMeta) (ObjectInfo, error) {
	info, err := s.r.putBytes(ctx, data, meta)
	if err == nil {
		s.record(info, "", data)
	}
	return info, err
}

func (s *Session) objects() []ObjectInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ObjectInfo, 0, len(s.objs))
	for _, o := range s.objs {
		out = append(out, o.info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// reupload stores a session object again (after a prune removed it).
func (s *Session) reupload(ctx context.Context, so *sessionObject) (ObjectInfo, error) {
	meta := ObjectMeta{Kind: so.info.Kind, Rows: so.info.Rows}
	if so.path != "" {
		f, err := os.Open(so.path)
		if err != nil {
			return ObjectInfo{}, fmt.Errorf("re-upload object %s from %s: %w", so.info.ID, so.path, err)
		}
		defer f.Close()
		return s.r.upload(ctx, so.info.ID, f, so.info.Bytes, meta, true, nil)
	}
	return s.r.upload(ctx, so.info.ID, bytes.NewReader(so.data), so.info.Bytes, meta, true, nil)
}

func (s *Session) commit(ctx context.Context, m *Manifest) (string, error) {
	o := s.r.begin("commit", "")
	id, n, err := s.commitInner(ctx, m)
	return id, o.done(err, Event{Subject: id, Objects: int64(n)})
}

func (s *Session) commitInner(ctx context.Context, m *Manifest) (string, int, error) {
	r := s.r
	if m == nil {
		return "", 0, errors.New("commit: nil manifest")
	}
	mm := *m
	if mm.Format == 0 {
		mm.Format = FormatVersion
	}
	if mm.Time.IsZero() {
		mm.Time = r.now()
	}
	mm.Time = mm.Time.UTC().Truncate(time.Microsecond)
	if mm.Host == "" {
		mm.Host = r.hostname()
	}
	if mm.Kind == "" {
		mm.Kind = "full"
	}
	if !mm.Retention.LockUntil.IsZero() {
		mm.Retention.LockUntil = mm.Retention.LockUntil.UTC().Truncate(time.Microsecond)
		if mm.Retention.Mode == "" {
			mm.Retention.Mode = Governance
		}
	}
	if mm.Parent != "" && !validID(mm.Parent) {
		return "", 0, fmt.Errorf("commit: parent %q is not a snapshot id", mm.Parent)
	}
	refs, bases, err := manifestRefs(&mm)
	if err != nil {
		return "", 0, fmt.Errorf("commit: %w", err)
	}
	raw, id, err := encodeManifest(&mm)
	if err != nil {
		return "", 0, err
	}
	ids := objectIDs(refs)

	lk, err := r.acquire(ctx, lockShared, "backup")
	if err != nil {
		return "", 0, fmt.Errorf("commit: %w", err)
	}
	defer lk.release()

	for _, b := range append(bases, mm.Parent) {
		if b == "" {
			continue
		}
		if ok, err := r.b.Exists(ctx, r.key(snapName(b))); err != nil {
			return "", 0, fmt.Errorf("commit: %w", err)
		} else if !ok {
			return "", 0, fmt.Errorf("commit: base snapshot %s: %w", b, ErrNotFound)
		}
	}
	// Re-upload what a sweep removed, and revive what a mark condemns.
	exists := make([]bool, len(ids))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.conc())
	for i, oid := range ids {
		g.Go(func() error {
			ok, err := r.hasObject(gctx, oid)
			exists[i] = ok
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return "", 0, fmt.Errorf("commit: %w", err)
	}
	s.mu.Lock()
	var index []ObjectInfo
	var missing []*sessionObject
	for i, oid := range ids {
		so := s.objs[oid]
		if !exists[i] {
			if so == nil {
				s.mu.Unlock()
				return "", 0, fmt.Errorf("commit: object %s (table %s) is not in the repository: %w", oid, refTable(refs, oid), ErrNotFound)
			}
			missing = append(missing, so)
			continue
		}
		if so != nil {
			index = append(index, so.info)
		}
	}
	s.mu.Unlock()
	for _, so := range missing {
		info, err := s.reupload(ctx, so)
		if err != nil {
			return "", 0, fmt.Errorf("commit: %w", err)
		}
		r.log.Warn("backup repository: object removed by a prune was uploaded again", "object", so.info.ID)
		index = append(index, info)
	}
	condemned, err := r.condemned(ctx)
	if err != nil {
		return "", 0, fmt.Errorf("commit: %w", err)
	}
	for _, oid := range ids {
		if condemned[oid] {
			if err := r.revive(ctx, oid); err != nil {
				return "", 0, fmt.Errorf("commit: %w", err)
			}
		}
	}
	if err := r.writeIndex(ctx, index); err != nil {
		return "", 0, fmt.Errorf("commit: index: %w", err)
	}
	if ok, err := r.b.Exists(ctx, r.key(snapName(id))); err != nil {
		return "", 0, fmt.Errorf("commit: %w", err)
	} else if !ok { // an identical manifest is already committed otherwise
		stored, err := sealBytes(r.keys, kindSnapshot, snapName(id), raw)
		if err != nil {
			return "", 0, err
		}
		if err := r.b.WriteAll(ctx, r.key(snapName(id)), stored, nil); err != nil {
			return "", 0, fmt.Errorf("commit: manifest %s: %w", id, err)
		}
	}
	lk.release()
	if !mm.Retention.LockUntil.IsZero() && mm.Retention.LockUntil.After(r.now()) {
		if err := r.applyProviderLock(ctx, id, &mm, mm.Retention.LockUntil, mm.Retention.Mode); err != nil {
			return id, len(index), fmt.Errorf("commit: snapshot %s stored, but provider object lock failed: %w", id, err)
		}
	}
	return id, len(index), nil
}

func refTable(refs []Reference, oid string) string {
	for _, r := range refs {
		if r.Object == oid {
			return r.Table
		}
	}
	return "?"
}

// snapshotIDs lists the ids of all manifests.
func (r *repo) snapshotIDs(ctx context.Context) ([]string, error) {
	names, err := r.listNames(ctx, "snapshots/")
	if err != nil {
		return nil, err
	}
	out := names[:0]
	for _, n := range names {
		id := strings.TrimPrefix(n, "snapshots/")
		if validID(id) {
			out = append(out, id)
		}
	}
	return out, nil
}

func (r *repo) resolve(ctx context.Context, prefix string) (string, error) {
	p := strings.ToLower(prefix)
	if validID(p) {
		return p, nil
	}
	if len(p) < 4 {
		return "", fmt.Errorf("snapshot id %q: need at least 4 hex digits: %w", prefix, ErrNotFound)
	}
	ids, err := r.snapshotIDs(ctx)
	if err != nil {
		return "", err
	}
	var match []string
	for _, id := range ids {
		if strings.HasPrefix(id, p) {
			match = append(match, id)
		}
	}
	switch len(match) {
	case 0:
		return "", fmt.Errorf("snapshot %s: %w", prefix, ErrNotFound)
	case 1:
		return match[0], nil
	}
	return "", fmt.Errorf("snapshot %s matches %d snapshots: %w", prefix, len(match), ErrAmbiguous)
}

func (r *repo) loadManifest(ctx context.Context, idOrPrefix string) (*Snapshot, error) {
	id, err := r.resolve(ctx, idOrPrefix)
	if err != nil {
		return nil, err
	}
	return r.loadByID(ctx, id)
}

func (r *repo) loadByID(ctx context.Context, id string) (*Snapshot, error) {
	r.snapMu.Lock()
	s := r.snapCache[id]
	r.snapMu.Unlock()
	if s != nil {
		return s, nil
	}
	name := snapName(id)
	plain, _, err := r.readSealed(ctx, name, kindSnapshot, name)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("snapshot %s: %w", id, ErrNotFound)
		}
		var ce *CorruptError
		if errors.As(err, &ce) {
			ce.Snapshots = []string{id}
		}
		return nil, err
	}
	if hexSHA(plain) != id {
		return nil, &CorruptError{Name: name, Snapshots: []string{id}, Err: errors.New("manifest does not match its id")}
	}
	var m Manifest
	if err := json.Unmarshal(plain, &m); err != nil {
		return nil, &CorruptError{Name: name, Snapshots: []string{id}, Err: err}
	}
	if m.Format > FormatVersion {
		return nil, fmt.Errorf("snapshot %s has format %d, newer than %d: %w", id, m.Format, FormatVersion, ErrNewerFormat)
	}
	s = &Snapshot{ID: id, Manifest: &m, Raw: plain}
	r.snapMu.Lock()
	r.snapCache[id] = s
	r.snapMu.Unlock()
	return s, nil
}

// loadAll loads every manifest; unreadable ones are returned in bad.
func (r *repo) loadAll(ctx context.Context) ([]*Snapshot, []error, error) {
	ids, err := r.snapshotIDs(ctx)
	if err != nil {
		return nil, nil, err
	}
	out := make([]*Snapshot, len(ids))
	errs := make([]error, len(ids))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.conc())
	for i, id := range ids {
		g.Go(func() error {
			s, err := r.loadByID(gctx, id)
			if err != nil {
				if errors.Is(err, ErrCorrupt) || errors.Is(err, ErrNewerFormat) {
					errs[i] = err
					return nil
				}
				if errors.Is(err, ErrNotFound) { // deleted meanwhile
					return nil
				}
				return err
			}
			out[i] = s
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	var snaps []*Snapshot
	var bad []error
	for i := range ids {
		if out[i] != nil {
			snaps = append(snaps, out[i])
		}
		if errs[i] != nil {
			bad = append(bad, errs[i])
		}
	}
	sort.Slice(snaps, func(i, j int) bool {
		ti, tj := snaps[i].Manifest.Time, snaps[j].Manifest.Time
		if !ti.Equal(tj) {
			return ti.Before(tj)
		}
		return snaps[i].ID < snaps[j].ID
	})
	return snaps, bad, nil
}

func (r *repo) info(ctx context.Context, s *Snapshot) (SnapshotInfo, error) {
	m := s.Manifest
	si := SnapshotInfo{ID: s.ID, Time: m.Time, Parent: m.Parent, Kind: m.Kind, Host: m.Host, Tags: m.Tags, Source: m.Source}
	if ts, err := parseTables(m); err == nil {
		for _, t := range ts {
			si.Tables = append(si.Tables, t.Schema+"."+t.Name)
		}
	}
	eff, err := r.effectiveOf(ctx, s)
	if err != nil {
		return si, err
	}
	si.Retention = eff
	return si, nil
}

func (r *repo) list(ctx context.Context) ([]SnapshotInfo, error) {
	snaps, bad, err := r.loadAll(ctx)
	if err != nil {
		return nil, err
	}
	for _, e := range bad {
		r.log.Warn("backup repository: unreadable snapshot skipped", "err", e)
	}
	out := make([]SnapshotInfo, 0, len(snaps))
	for _, s := range snaps {
		si, err := r.info(ctx, s)
		if err != nil {
			return nil, err
		}
		out = append(out, si)
	}
	return out, nil
}

func (r *repo) deleteSnapshot(ctx context.Context, idOrPrefix string, opts DeleteOptions, override bool) error {
	id, err := r.resolve(ctx, idOrPrefix)
	if err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	s, err := r.loadByID(ctx, id)
	if err != nil && !errors.Is(err, ErrCorrupt) {
		return fmt.Errorf("delete: %w", err)
	}
	if s != nil {
		eff, err := r.effectiveOf(ctx, s)
		if err != nil {
			return fmt.Errorf("delete: %w", err)
		}
		if lerr := lockedErr(id, eff, r.now(), override); lerr != nil {
			return fmt.Errorf("delete: %w", lerr)
		}
	} else {
		r.log.Warn("backup repository: deleting an unreadable manifest", "snapshot", id)
	}
	if opts.DryRun {
		return nil
	}
	o := r.begin("delete", id)
	err = r.b.Delete(ctx, r.key(snapName(id)))
	if err != nil && !isNotFound(err) {
		return o.done(fmt.Errorf("delete snapshot %s: %w", id, err), Event{})
	}
	recs, err := r.listNames(ctx, retentionDir(id))
	if err == nil {
		for _, n := range recs {
			if derr := r.b.Delete(ctx, r.key(n)); derr != nil && !isNotFound(derr) {
				err = derr
			}
		}
	}
	r.snapMu.Lock()
	delete(r.snapCache, id)
	r.snapMu.Unlock()
	return o.done(err, Event{Objects: 1})
}

// lockedErr returns a *LockedError if eff protects snapshot id at now.
// Override lifts a governance time lock (never compliance or holds).
func lockedErr(id string, eff EffectiveRetention, now time.Time, override bool) error {
	if !eff.Locked(now) {
		return nil
	}
	if override && eff.Mode == Governance && len(eff.Holds) == 0 {
		return nil
	}
	e := &LockedError{Snapshot: id, Mode: eff.Mode, Holds: eff.Holds}
	if now.Before(eff.LockUntil) {
		e.LockUntil = eff.LockUntil
	}
	return e
}
