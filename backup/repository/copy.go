package repository

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
)

// rewriteIDs replaces object ids and base snapshot ids in a tables value
// (FORMAT.md §7) using the given maps.
func rewriteIDs(tables json.RawMessage, objs, snaps map[string]string) (json.RawMessage, error) {
	if len(tables) == 0 {
		return tables, nil
	}
	var ts []map[string]any
	if err := json.Unmarshal(tables, &ts); err != nil {
		return nil, err
	}
	for _, t := range ts {
		d, _ := t["data"].(map[string]any)
		if d == nil {
			continue
		}
		if b, ok := d["base"].(string); ok {
			if nb, ok := snaps[b]; ok {
				d["base"] = nb
			}
		}
		for _, role := range []string{"parts", "upserts", "deletes"} {
			ps, _ := d[role].([]any)
			for _, p := range ps {
				pm, _ := p.(map[string]any)
				if pm == nil {
					continue
				}
				if id, ok := pm["id"].(string); ok {
					if nid, ok := objs[id]; ok {
						pm["id"] = nid
					}
				}
			}
		}
	}
	return canonicalJSON(ts)
}

func (r *repo) copyTo(ctx context.Context, dst *repo, ids []string, opts CopyOptions) (CopyResult, error) {
	res := CopyResult{Mapping: map[string]string{}}
	o := r.begin("copy", "")
	err := r.copyInner(ctx, dst, ids, opts, &res, o)
	return res, o.done(err, Event{Objects: int64(res.Objects), Bytes: res.Bytes})
}

func (r *repo) copyInner(ctx context.Context, dst *repo, ids []string, opts CopyOptions, res *CopyResult, o *op) error {
	// Resolve, then close over base links: a copy must be self-contained.
	want := map[string]*Snapshot{}
	var queue []string
	for _, p := range ids {
		id, err := r.resolve(ctx, p)
		if err != nil {
			return fmt.Errorf("copy: %w", err)
		}
		queue = append(queue, id)
		res.Snapshots = append(res.Snapshots, id)
	}
	if opts.Move {
		for _, id := range res.Snapshots {
			eff, err := r.effectiveRetention(ctx, id)
			if err != nil {
				return fmt.Errorf("copy: %w", err)
			}
			if lerr := lockedErr(id, eff, r.now(), false); lerr != nil {
				return fmt.Errorf("move: %w", lerr)
			}
		}
	}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		if want[id] != nil {
			continue
		}
		s, err := r.loadByID(ctx, id)
		if err != nil {
			return fmt.Errorf("copy: %w", err)
		}
		want[id] = s
		_, bases, err := manifestRefs(s.Manifest)
		if err != nil {
			return fmt.Errorf("copy snapshot %s: %w", id, err)
		}
		queue = append(queue, bases...)
	}
	order := make([]*Snapshot, 0, len(want))
	for _, s := range want {
		order = append(order, s)
	}
	sort.Slice(order, func(i, j int) bool {
		if !order[i].Manifest.Time.Equal(order[j].Manifest.Time) {
			return order[i].Manifest.Time.Before(order[j].Manifest.Time)
		}
		return order[i].ID < order[j].ID
	})
	objMap := map[string]string{}
	tmp, err := os.MkdirTemp("", "dataops-copy-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for _, s := range order {
		refs, _, _ := manifestRefs(s.Manifest)
		sess := &Session{r: dst, objs: map[string]*sessionObject{}}
		for _, oid := range objectIDs(refs) {
			if _, done := objMap[oid]; done {
				continue
			}
			if r.keys == nil && dst.keys == nil { // same ids in both: skip what dst has
				if ok, err := dst.hasObject(ctx, oid); err != nil {
					return fmt.Errorf("copy snapshot %s: %w", s.ID, err)
				} else if ok {
					objMap[oid] = oid
					continue
				}
			}
			path := tmp + "/" + oid
			if err := r.fetchFile(ctx, oid, path); err != nil {
				return fmt.Errorf("copy snapshot %s: %w", s.ID, err)
			}
			info, err := sess.putFile(ctx, path, ObjectMeta{Rows: refRows(refs, oid)})
			if err != nil {
				return fmt.Errorf("copy snapshot %s: %w", s.ID, err)
			}
			objMap[oid] = info.ID
			if info.Uploaded {
				res.Objects++
				res.Bytes += info.Bytes
			}
			o.progress(Event{Subject: oid, Objects: int64(res.Objects), Bytes: res.Bytes})
		}
		m := *s.Manifest
		tables, err := rewriteIDs(m.Tables, objMap, res.Mapping)
		if err != nil {
			return fmt.Errorf("copy snapshot %s: %w", s.ID, err)
		}
		m.Tables = tables
		if np, ok := res.Mapping[m.Parent]; ok {
			m.Parent = np
		} else if m.Parent != "" {
			m.Parent = "" // the parent was not copied; the copy has none
		}
		eff, err := r.effectiveOf(ctx, s)
		if err != nil {
			return fmt.Errorf("copy snapshot %s: %w", s.ID, err)
		}
		m.Retention = Retention{LockUntil: eff.LockUntil, Mode: eff.Mode, LegalHolds: eff.Holds}
		nid, err := sess.Commit(ctx, &m)
		if err != nil {
			return fmt.Errorf("copy snapshot %s: %w", s.ID, err)
		}
		for _, so := range sess.objs {
			os.Remove(so.path)
		}
		res.Mapping[s.ID] = nid
	}
	if opts.Move {
		for _, id := range res.Snapshots {
			if err := r.deleteSnapshot(ctx, id, DeleteOptions{}, false); err != nil {
				return fmt.Errorf("move: %w", err)
			}
			res.Deleted = append(res.Deleted, id)
		}
	}
	return nil
}

func refRows(refs []Reference, oid string) int64 {
	for _, r := range refs {
		if r.Object == oid {
			return r.Rows
		}
	}
	return 0
}
