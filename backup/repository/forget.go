package repository

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// empty reports whether no rule is set (restic keeps everything then).
func (p Policy) empty() bool {
	return p.Last == 0 && p.Hourly == 0 && p.Daily == 0 && p.Weekly == 0 && p.Monthly == 0 && p.Yearly == 0 &&
		p.Within == 0 && len(p.Tags) == 0
}

func bucketAlways(_ time.Time, nr int) int { return nr }
func bucketHour(t time.Time, _ int) int {
	return t.Year()*1000000 + int(t.Month())*10000 + t.Day()*100 + t.Hour()
}
func bucketDay(t time.Time, _ int) int { return t.Year()*10000 + int(t.Month())*100 + t.Day() }
func bucketWeek(t time.Time, _ int) int {
	y, w := t.ISOWeek()
	return y*100 + w
}
func bucketMonth(t time.Time, _ int) int { return t.Year()*100 + int(t.Month()) }
func bucketYear(t time.Time, _ int) int  { return t.Year() }

func hasTags(have []string, want string) bool {
	set := map[string]bool{}
	for _, t := range have {
		set[t] = true
	}
	for _, t := range strings.Split(want, ",") {
		if t = strings.TrimSpace(t); t != "" && !set[t] {
			return false
		}
	}
	return true
}

// applyPolicy decides, for one group sorted newest first, which snapshots
// the policy keeps and why. It follows restic's ExpirePolicy semantics:
// every rule walks the list newest first and keeps the first snapshot of each
// new period while it has counts left (-1: unlimited); a rule with counts
// left also keeps the oldest snapshot of the list; keep-within keeps every
// snapshot newer than the newest (not in the future) minus the duration;
// keep-tag keeps snapshots having all tags of any listed set. now bounds the
// "newest" snapshot as restic's findLatestTimestamp does.
func applyPolicy(list []SnapshotInfo, p Policy, now time.Time) []Decision {
	out := make([]Decision, len(list))
	if p.empty() {
		for i, s := range list {
			out[i] = Decision{Snapshot: s, Keep: true, Reasons: []string{"policy is empty"}}
		}
		return out
	}
	buckets := []struct {
		count  int
		bucket func(time.Time, int) int
		last   int
		reason string
	}{
		{p.Last, bucketAlways, -1, "last snapshot"},
		{p.Hourly, bucketHour, -1, "hourly snapshot"},
		{p.Daily, bucketDay, -1, "daily snapshot"},
		{p.Weekly, bucketWeek, -1, "weekly snapshot"},
		{p.Monthly, bucketMonth, -1, "monthly snapshot"},
		{p.Yearly, bucketYear, -1, "yearly snapshot"},
	}
	var latest time.Time
	for _, s := range list {
		if s.Time.After(latest) && s.Time.Before(now) {
			latest = s.Time
		}
	}
	for nr, cur := range list {
		d := Decision{Snapshot: cur}
		for _, tl := range p.Tags {
			if hasTags(cur.Tags, tl) {
				d.Keep = true
				d.Reasons = append(d.Reasons, "has tags ["+tl+"]")
			}
		}
		if p.Within > 0 && cur.Time.After(latest.Add(-p.Within)) {
			d.Keep = true
			d.Reasons = append(d.Reasons, "within "+p.Within.String())
		}
		for i := range buckets {
			b := &buckets[i]
			if b.count > 0 || b.count == -1 {
				val := b.bucket(cur.Time, nr)
				if val != b.last || nr == len(list)-1 {
					reason := b.reason
					if val == b.last && nr == len(list)-1 {
						reason = "oldest " + reason
					}
					d.Keep = true
					b.last = val
					if b.count > 0 {
						b.count--
					}
					d.Reasons = append(d.Reasons, reason)
				}
			}
		}
		out[nr] = d
	}
	return out
}

func groupKey(s SnapshotInfo, by string) string {
	if by == "" {
		return ""
	}
	var parts []string
	for _, f := range strings.Split(by, ",") {
		switch strings.TrimSpace(f) {
		case "host":
			parts = append(parts, "host="+s.Host)
		case "source":
			parts = append(parts, "source="+string(s.Source))
		case "tables":
			t := append([]string(nil), s.Tables...)
			sort.Strings(t)
			parts = append(parts, "tables="+strings.Join(t, ","))
		case "tags":
			t := append([]string(nil), s.Tags...)
			sort.Strings(t)
			parts = append(parts, "tags="+strings.Join(t, ","))
		}
	}
	return strings.Join(parts, " ")
}

func (r *repo) forget(ctx context.Context, p Policy, opts ForgetOptions) (ForgetResult, error) {
	var res ForgetResult
	for _, f := range strings.Split(p.GroupBy, ",") {
		switch strings.TrimSpace(f) {
		case "", "host", "source", "tables", "tags":
		default:
			return res, fmt.Errorf("forget: unknown group-by field %q (want host, source, tables, tags)", f)
		}
	}
	for _, n := range []int{p.Last, p.Hourly, p.Daily, p.Weekly, p.Monthly, p.Yearly} {
		if n < -1 {
			return res, fmt.Errorf("forget: keep count %d: want -1 (unlimited) or more", n)
		}
	}
	o := r.begin("forget", "")
	snaps, err := r.list(ctx)
	if err != nil {
		return res, o.done(fmt.Errorf("forget: %w", err), Event{})
	}
	groups := map[string][]SnapshotInfo{}
	var keys []string
	for _, s := range snaps {
		k := groupKey(s, p.GroupBy)
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], s)
	}
	sort.Strings(keys)
	now := r.now()
	for _, k := range keys {
		list := groups[k]
		sort.SliceStable(list, func(i, j int) bool { return list[i].Time.After(list[j].Time) })
		ds := applyPolicy(list, p, now)
		for i := range ds {
			d := &ds[i]
			if d.Keep {
				continue
			}
			if lerr := lockedErr(d.Snapshot.ID, d.Snapshot.Retention, now, opts.Override); lerr != nil {
				d.Keep = true
				d.Reasons = append(d.Reasons, lockReason(d.Snapshot.Retention, now))
				continue
			}
			if !opts.DryRun {
				if err := r.deleteSnapshot(ctx, d.Snapshot.ID, DeleteOptions{}, opts.Override); err != nil {
					return res, o.done(fmt.Errorf("forget: %w", err), Event{})
				}
			}
			res.Removed = append(res.Removed, d.Snapshot.ID)
		}
		res.Groups = append(res.Groups, ForgetGroup{Key: k, Decisions: ds})
	}
	return res, o.done(nil, Event{Objects: int64(len(res.Removed)), Message: fmt.Sprintf("removed %d of %d snapshots", len(res.Removed), len(snaps))})
}

func lockReason(e EffectiveRetention, now time.Time) string {
	var why []string
	if !e.LockUntil.IsZero() && now.Before(e.LockUntil) {
		why = append(why, "locked until "+e.LockUntil.UTC().Format(time.RFC3339))
	}
	for _, h := range e.Holds {
		why = append(why, "legal hold "+h)
	}
	return strings.Join(why, ", ")
}
