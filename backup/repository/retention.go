package repository

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"
)

// retentionRecord is a retention/<snapshot-id>/<record-id> file (FORMAT.md §8).
type retentionRecord struct {
	Time      time.Time     `json:"time"`
	LockUntil *time.Time    `json:"lock_until"`
	Mode      RetentionMode `json:"mode,omitempty"`
	Override  bool          `json:"override,omitempty"`
	Hold      string        `json:"hold,omitempty"`
	Release   bool          `json:"release,omitempty"`
	Seq       int           `json:"seq"` // records of the snapshot before this one: orders records of equal time
}

func retentionDir(id string) string { return "retention/" + id + "/" }

func (r *repo) records(ctx context.Context, id string) ([]retentionRecord, error) {
	names, err := r.listNames(ctx, retentionDir(id))
	if err != nil {
		return nil, err
	}
	var out []retentionRecord
	for _, n := range names {
		plain, err := r.readHashed(ctx, n, kindRetention)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("snapshot %s retention: %w", id, err)
		}
		var rec retentionRecord
		if err := json.Unmarshal(plain, &rec); err != nil {
			return nil, &CorruptError{Name: n, Snapshots: []string{id}, Err: err}
		}
		out = append(out, rec)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Time.Equal(out[j].Time) {
			return out[i].Time.Before(out[j].Time)
		}
		return out[i].Seq < out[j].Seq
	})
	return out, nil
}

// merge applies records in time order to the manifest's retention.
func merge(base Retention, recs []retentionRecord) EffectiveRetention {
	e := EffectiveRetention{LockUntil: base.LockUntil, Mode: base.Mode}
	holds := map[string]bool{}
	for _, h := range base.LegalHolds {
		holds[h] = true
	}
	for _, rec := range recs {
		if rec.LockUntil != nil {
			if rec.LockUntil.After(e.LockUntil) || (rec.Override && e.Mode != Compliance) {
				e.LockUntil = *rec.LockUntil
			}
		}
		if rec.Mode == Compliance || (rec.Mode == Governance && e.Mode == "") {
			e.Mode = rec.Mode
		}
		if rec.Hold != "" {
			if rec.Release {
				delete(holds, rec.Hold)
			} else {
				holds[rec.Hold] = true
			}
		}
	}
	if !e.LockUntil.IsZero() && e.Mode == "" {
		e.Mode = Governance
	}
	for h := range holds {
		e.Holds = append(e.Holds, h)
	}
	sort.Strings(e.Holds)
	return e
}

func (r *repo) effectiveOf(ctx context.Context, s *Snapshot) (EffectiveRetention, error) {
	recs, err := r.records(ctx, s.ID)
	if err != nil {
		return EffectiveRetention{}, err
	}
	return merge(s.Manifest.Retention, recs), nil
}

func (r *repo) effectiveRetention(ctx context.Context, idOrPrefix string) (EffectiveRetention, error) {
	s, err := r.loadManifest(ctx, idOrPrefix)
	if err != nil {
		return EffectiveRetention{}, err
	}
	return r.effectiveOf(ctx, s)
}

func (r *repo) writeRecord(ctx context.Context, id string, rec retentionRecord) error {
	prev, err := r.listNames(ctx, retentionDir(id))
	if err != nil {
		return err
	}
	rec.Seq = len(prev)
	b, err := canonicalJSON(rec)
	if err != nil {
		return err
	}
	_, err = r.writeHashed(ctx, retentionDir(id), kindRetention, b)
	return err
}

func (r *repo) lock(ctx context.Context, idOrPrefix string, until time.Time, mode RetentionMode, opts LockOptions) error {
	if mode == "" {
		mode = Governance
	}
	if mode != Governance && mode != Compliance {
		return fmt.Errorf("lock: unknown retention mode %q", mode)
	}
	s, err := r.loadManifest(ctx, idOrPrefix)
	if err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	eff, err := r.effectiveOf(ctx, s)
	if err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	until = until.UTC().Truncate(time.Microsecond)
	now := r.now()
	if eff.Mode == Compliance && mode == Governance && now.Before(eff.LockUntil) {
		return fmt.Errorf("lock snapshot %s: a compliance lock cannot become governance: %w", s.ID,
			&LockedError{Snapshot: s.ID, LockUntil: eff.LockUntil, Mode: eff.Mode, Holds: eff.Holds})
	}
	override := false
	if until.Before(eff.LockUntil) {
		if eff.Mode == Compliance || !opts.Override {
			return fmt.Errorf("lock snapshot %s: lock_until only grows (use the governance override to shorten): %w", s.ID,
				&LockedError{Snapshot: s.ID, LockUntil: eff.LockUntil, Mode: eff.Mode, Holds: eff.Holds})
		}
		override = true
	}
	o := r.begin("lock", s.ID)
	rec := retentionRecord{Time: now.UTC(), LockUntil: &until, Mode: mode, Override: override}
	if err := r.writeRecord(ctx, s.ID, rec); err != nil {
		return o.done(fmt.Errorf("lock snapshot %s: %w", s.ID, err), Event{})
	}
	if until.After(now) {
		if err := r.applyProviderLock(ctx, s.ID, s.Manifest, until, mode); err != nil {
			return o.done(fmt.Errorf("lock snapshot %s: provider object lock: %w", s.ID, err), Event{})
		}
	}
	return o.done(nil, Event{Message: "until " + until.Format(time.RFC3339)})
}

func (r *repo) hold(ctx context.Context, idOrPrefix, name string, release bool) error {
	if name == "" {
		return errors.New("legal hold: empty name")
	}
	s, err := r.loadManifest(ctx, idOrPrefix)
	if err != nil {
		return fmt.Errorf("legal hold %s: %w", name, err)
	}
	op := "hold"
	if release {
		op = "release"
		eff, err := r.effectiveOf(ctx, s)
		if err != nil {
			return err
		}
		found := false
		for _, h := range eff.Holds {
			found = found || h == name
		}
		if !found {
			return fmt.Errorf("release legal hold %q on snapshot %s: %w", name, s.ID, ErrNotFound)
		}
	}
	o := r.begin(op, s.ID)
	err = r.writeRecord(ctx, s.ID, retentionRecord{Time: r.now().UTC(), Hold: name, Release: release})
	return o.done(err, Event{Message: name})
}

// applyProviderLock gives the snapshot's manifest and data objects a provider
// retention until until, where the bucket supports it.
func (r *repo) applyProviderLock(ctx context.Context, id string, m *Manifest, until time.Time, mode RetentionMode) error {
	if r.locker == nil {
		return nil
	}
	refs, _, err := manifestRefs(m)
	if err != nil {
		return err
	}
	keys := []string{r.key(snapName(id))}
	for _, oid := range objectIDs(refs) {
		keys = append(keys, r.key(dataName(oid)))
	}
	for _, k := range keys {
		if err := r.locker.SetRetention(ctx, k, until, mode); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
	}
	r.log.Info("backup repository: provider object lock set", "snapshot", id, "objects", len(keys), "until", until)
	return nil
}
