package repository

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// markFile is a marks/<mark-id> file (FORMAT.md §10).
type markFile struct {
	Time    time.Time `json:"time"`
	Objects []string  `json:"objects"`
}

type mark struct {
	name string
	markFile
}

func (r *repo) marks(ctx context.Context) ([]mark, error) {
	names, err := r.listNames(ctx, "marks/")
	if err != nil {
		return nil, err
	}
	var out []mark
	for _, n := range names {
		plain, err := r.readHashed(ctx, n, kindMark)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		m := mark{name: n}
		if err := json.Unmarshal(plain, &m.markFile); err != nil {
			return nil, &CorruptError{Name: n, Err: err}
		}
		out = append(out, m)
	}
	return out, nil
}

// condemned returns the objects any mark lists.
func (r *repo) condemned(ctx context.Context) (map[string]bool, error) {
	ms, err := r.marks(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, m := range ms {
		for _, o := range m.Objects {
			out[o] = true
		}
	}
	return out, nil
}

func reviveName(oid string) string { return "revive/" + oid }

func (r *repo) revive(ctx context.Context, oid string) error {
	b, _ := json.Marshal(struct {
		Time time.Time `json:"time"`
	}{r.now().UTC()})
	stored, err := sealBytes(r.keys, kindRevive, reviveName(oid), b)
	if err != nil {
		return err
	}
	if err := r.b.WriteAll(ctx, r.key(reviveName(oid)), stored, nil); err != nil {
		return fmt.Errorf("revive object %s: %w", oid, err)
	}
	return nil
}

// referenced loads every manifest and returns the objects they reference.
// Any unreadable manifest makes it fail: prune must never guess.
func (r *repo) referenced(ctx context.Context) (map[string]bool, []*Snapshot, error) {
	snaps, bad, err := r.loadAll(ctx)
	if err != nil {
		return nil, nil, err
	}
	if len(bad) > 0 {
		return nil, nil, fmt.Errorf("cannot tell which objects are in use: %w", bad[0])
	}
	refs := map[string]bool{}
	for _, s := range snaps {
		rs, _, err := manifestRefs(s.Manifest)
		if err != nil {
			return nil, nil, fmt.Errorf("snapshot %s: %w", s.ID, err)
		}
		for _, x := range rs {
			refs[x.Object] = true
		}
	}
	return refs, snaps, nil
}

func (r *repo) prune(ctx context.Context, opts PruneOptions) (PruneResult, error) {
	var res PruneResult
	o := r.begin("prune", "")
	if err := r.sweep(ctx, opts, &res); err != nil {
		return res, o.done(err, Event{})
	}
	if err := r.mark(ctx, opts, &res); err != nil {
		return res, o.done(err, Event{})
	}
	return res, o.done(nil, Event{Objects: int64(len(res.Deleted)), Bytes: res.DeletedBytes,
		Message: fmt.Sprintf("marked %d, deleted %d, kept %d", len(res.Marked), len(res.Deleted), len(res.Kept))})
}

// mark writes a mark of the objects no manifest references (no lock).
func (r *repo) mark(ctx context.Context, opts PruneOptions, res *PruneResult) error {
	o := r.begin("prune.mark", "")
	// List data before manifests: an object uploaded after the listing is
	// not marked; one committed after it is referenced at sweep time.
	data, err := r.listData(ctx)
	if err != nil {
		return o.done(fmt.Errorf("prune mark: %w", err), Event{})
	}
	refs, _, err := r.referenced(ctx)
	if err != nil {
		return o.done(fmt.Errorf("prune mark: %w", err), Event{})
	}
	already, err := r.condemned(ctx)
	if err != nil {
		return o.done(fmt.Errorf("prune mark: %w", err), Event{})
	}
	var cand []string
	for id := range data {
		if !refs[id] && !already[id] {
			cand = append(cand, id)
		}
	}
	sort.Strings(cand)
	res.Marked = cand
	if len(cand) == 0 || opts.DryRun {
		return o.done(nil, Event{Objects: int64(len(cand))})
	}
	b, err := json.Marshal(markFile{Time: r.now().UTC(), Objects: cand})
	if err != nil {
		return err
	}
	if _, err := r.writeHashed(ctx, "marks/", kindMark, b); err != nil {
		return o.done(fmt.Errorf("prune mark: %w", err), Event{})
	}
	return o.done(nil, Event{Objects: int64(len(cand))})
}

// sweep deletes the objects of marks older than the safety window that are
// still unreferenced and not revived, under a short exclusive lock.
func (r *repo) sweep(ctx context.Context, opts PruneOptions, res *PruneResult) error {
	window := opts.SafetyWindow
	if window == 0 {
		window = time.Hour
	}
	if window < 0 {
		window = 0
	}
	ms, err := r.marks(ctx)
	if err != nil {
		return fmt.Errorf("prune sweep: %w", err)
	}
	now := r.now()
	due := false
	for _, m := range ms {
		due = due || now.Sub(m.Time) >= window
	}
	if !due {
		return nil
	}
	o := r.begin("prune.sweep", "")
	var lk *heldLock
	if !opts.DryRun {
		if lk, err = r.acquire(ctx, lockExclusive, "sweep"); err != nil {
			return o.done(fmt.Errorf("prune sweep: %w", err), Event{})
		}
		defer lk.release()
	}
	err = r.sweepLocked(ctx, opts, window, res)
	return o.done(err, Event{Objects: int64(len(res.Deleted)), Bytes: res.DeletedBytes})
}

func (r *repo) sweepLocked(ctx context.Context, opts PruneOptions, window time.Duration, res *PruneResult) error {
	ms, err := r.marks(ctx) // again, now that no commit runs
	if err != nil {
		return fmt.Errorf("prune sweep: %w", err)
	}
	revived, err := r.listNames(ctx, "revive/")
	if err != nil {
		return fmt.Errorf("prune sweep: %w", err)
	}
	rev := map[string]bool{}
	for _, n := range revived {
		rev[strings.TrimPrefix(n, "revive/")] = true
	}
	refs, snaps, err := r.referenced(ctx)
	if err != nil {
		return fmt.Errorf("prune sweep: %w", err)
	}
	now := r.now()
	var due []mark
	cand := map[string]bool{}
	for _, m := range ms {
		if now.Sub(m.Time) < window {
			continue
		}
		due = append(due, m)
		for _, id := range m.Objects {
			cand[id] = true
		}
	}
	ids := make([]string, 0, len(cand))
	for id := range cand {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	deleted := map[string]bool{}
	for _, id := range ids {
		if !validID(id) {
			continue
		}
		if refs[id] || rev[id] {
			res.Kept = append(res.Kept, id)
			continue
		}
		if opts.DryRun {
			res.Deleted = append(res.Deleted, id)
			continue
		}
		attrs, aerr := r.b.Attributes(ctx, r.key(dataName(id)))
		if err := r.b.Delete(ctx, r.key(dataName(id))); err != nil {
			if isNotFound(err) {
				continue
			}
			return fmt.Errorf("prune sweep: delete object %s: %w", id, err)
		}
		if aerr == nil {
			res.DeletedBytes += attrs.Size
		}
		deleted[id] = true
		res.Deleted = append(res.Deleted, id)
	}
	if opts.DryRun {
		return nil
	}
	if len(deleted) > 0 {
		if err := r.rewriteIndexes(ctx, deleted); err != nil {
			return fmt.Errorf("prune sweep: %w", err)
		}
	}
	for _, m := range due {
		if err := r.b.Delete(ctx, r.key(m.name)); err != nil && !isNotFound(err) {
			return fmt.Errorf("prune sweep: delete %s: %w", m.name, err)
		}
		res.MarksSwept++
	}
	for _, n := range revived {
		if err := r.b.Delete(ctx, r.key(n)); err != nil && !isNotFound(err) {
			return fmt.Errorf("prune sweep: delete %s: %w", n, err)
		}
	}
	// Retention records of forgotten snapshots.
	live := map[string]bool{}
	for _, s := range snaps {
		live[s.ID] = true
	}
	recs, err := r.listNames(ctx, "retention/")
	if err != nil {
		return fmt.Errorf("prune sweep: %w", err)
	}
	for _, n := range recs {
		parts := strings.Split(n, "/")
		if len(parts) == 3 && validID(parts[1]) && !live[parts[1]] {
			if ok, _ := r.b.Exists(ctx, r.key(snapName(parts[1]))); !ok {
				r.b.Delete(ctx, r.key(n))
			}
		}
	}
	return nil
}

// rewriteIndexes replaces the index files naming deleted objects with one
// index of their remaining entries.
func (r *repo) rewriteIndexes(ctx context.Context, deleted map[string]bool) error {
	names, err := r.listNames(ctx, "index/")
	if err != nil {
		return err
	}
	var keep []ObjectInfo
	var old []string
	for _, n := range names {
		plain, err := r.readHashed(ctx, n, kindIndex)
		if err != nil {
			continue // verify reports it; leave it alone
		}
		var f indexFile
		if json.Unmarshal(plain, &f) != nil {
			continue
		}
		hit := false
		for _, o := range f.Objects {
			if deleted[o.ID] {
				hit = true
			}
		}
		if !hit {
			continue
		}
		old = append(old, n)
		for _, o := range f.Objects {
			if !deleted[o.ID] {
				keep = append(keep, o)
			}
		}
	}
	if err := r.writeIndex(ctx, keep); err != nil {
		return err
	}
	for _, n := range old {
		if err := r.b.Delete(ctx, r.key(n)); err != nil && !isNotFound(err) {
			return err
		}
	}
	return nil
}
