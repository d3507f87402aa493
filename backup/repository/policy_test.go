package repository

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func ts(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04:05", s)
	if err != nil {
		panic(err)
	}
	return t
}

// policyFixture is newest first, in the style of restic's expire tests:
// same-day, same-hour, ISO-week-53 and year boundaries.
var policyFixture = []SnapshotInfo{
	{ID: "s00", Time: ts("2016-01-18 12:02:03")}, // Monday, 2016-W03
	{ID: "s01", Time: ts("2016-01-12 21:08:03")}, // 2016-W02
	{ID: "s02", Time: ts("2016-01-12 21:02:03")}, // same day and hour as s01
	{ID: "s03", Time: ts("2016-01-09 21:02:03")}, // 2016-W01
	{ID: "s04", Time: ts("2016-01-08 20:02:03")},
	{ID: "s05", Time: ts("2016-01-07 10:02:03"), Tags: []string{"foo"}},
	{ID: "s06", Time: ts("2016-01-03 07:02:03")}, // Sunday: 2015-W53
	{ID: "s07", Time: ts("2016-01-01 07:08:03")}, // 2015-W53
	{ID: "s08", Time: ts("2016-01-01 01:03:03")}, // same day as s07
	{ID: "s09", Time: ts("2015-11-22 10:20:30")},
	{ID: "s10", Time: ts("2015-11-21 10:20:30"), Tags: []string{"foo", "bar"}},
	{ID: "s11", Time: ts("2015-10-22 10:20:30")},
	{ID: "s12", Time: ts("2014-11-22 10:20:30")},
}

func TestApplyPolicy(t *testing.T) {
	now := ts("2020-01-01 00:00:00")
	all := policyFixture
	for _, tc := range []struct {
		name    string
		list    []SnapshotInfo
		p       Policy
		now     time.Time
		keep    string // kept ids without the "s"
		reasons map[string]string
	}{
		{"empty policy keeps all", all, Policy{}, now, "00 01 02 03 04 05 06 07 08 09 10 11 12", map[string]string{"s04": "policy is empty"}},
		{"last 3", all, Policy{Last: 3}, now, "00 01 02", map[string]string{"s02": "last snapshot"}},
		{"last unlimited", all, Policy{Last: -1}, now, "00 01 02 03 04 05 06 07 08 09 10 11 12", nil},
		{"hourly 3", all, Policy{Hourly: 3}, now, "00 01 03", map[string]string{"s03": "hourly snapshot"}},
		{"daily 3: one per day, newest of the day", all, Policy{Daily: 3}, now, "00 01 03", map[string]string{"s01": "daily snapshot"}},
		{"daily 20: counts only over days that have snapshots", all, Policy{Daily: 20}, now, "00 01 03 04 05 06 07 09 10 11 12", nil},
		{"weekly 2", all, Policy{Weekly: 2}, now, "00 01", nil},
		{"weekly 4 crosses into ISO week 2015-W53", all, Policy{Weekly: 4}, now, "00 01 03 06", map[string]string{"s06": "weekly snapshot"}},
		{"monthly 3", all, Policy{Monthly: 3}, now, "00 09 11", nil},
		{"monthly 10", all, Policy{Monthly: 10}, now, "00 09 11 12", nil},
		{"yearly 10", all, Policy{Yearly: 10}, now, "00 09 12", nil},
		{"yearly 5 keeps the oldest while counts are left", all[:12], Policy{Yearly: 5}, now, "00 09 11", map[string]string{"s11": "oldest yearly snapshot"}},
		{"within 7 days of the newest", all, Policy{Within: 7 * 24 * time.Hour}, now, "00 01 02", map[string]string{"s00": "within 168h0m0s"}},
		{"within ignores snapshots in the future", all, Policy{Within: time.Hour}, ts("2016-01-15 00:00:00"), "00 01 02", nil},
		{"tag foo", all, Policy{Tags: []string{"foo"}}, now, "05 10", map[string]string{"s05": "has tags [foo]"}},
		{"tag list foo,bar needs both", all, Policy{Tags: []string{"foo,bar"}}, now, "10", nil},
		{"last 2 and monthly 2 combine", all, Policy{Last: 2, Monthly: 2}, now, "00 01 09", map[string]string{"s00": "last snapshot, monthly snapshot"}},
		{"daily 2 weekly 2 monthly 2 yearly 2", all, Policy{Daily: 2, Weekly: 2, Monthly: 2, Yearly: 2}, now, "00 01 09", nil},
		{"single snapshot", all[:1], Policy{Daily: 1}, now, "00", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds := applyPolicy(tc.list, tc.p, tc.now)
			var kept []string
			for i, d := range ds {
				if d.Snapshot.ID != tc.list[i].ID {
					t.Fatalf("decision %d is for %s", i, d.Snapshot.ID)
				}
				if d.Keep {
					kept = append(kept, strings.TrimPrefix(d.Snapshot.ID, "s"))
					if len(d.Reasons) == 0 {
						t.Fatalf("%s kept without a reason", d.Snapshot.ID)
					}
				} else if len(d.Reasons) != 0 {
					t.Fatalf("%s removed with reasons %v", d.Snapshot.ID, d.Reasons)
				}
				if want, ok := tc.reasons[d.Snapshot.ID]; ok && strings.Join(d.Reasons, ", ") != want {
					t.Fatalf("%s reasons %q, want %q", d.Snapshot.ID, strings.Join(d.Reasons, ", "), want)
				}
			}
			if got := strings.Join(kept, " "); got != tc.keep {
				t.Fatalf("kept %s, want %s", got, tc.keep)
			}
		})
	}
}

func TestGroupKey(t *testing.T) {
	a := SnapshotInfo{Host: "h", Source: []byte(`{"engine":"duckdb"}`), Tables: []string{"raw.b", "raw.a"}}
	b := a
	b.Tables = []string{"raw.a", "raw.b"}
	if groupKey(a, "host,source,tables") != groupKey(b, "host,source,tables") {
		t.Fatal("table order changes the group")
	}
	b.Host = "other"
	if groupKey(a, "source,tables") != groupKey(b, "source,tables") || groupKey(a, "host") == groupKey(b, "host") {
		t.Fatal("group by host")
	}
}

func TestSubsetFunc(t *testing.T) {
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = hexSHA([]byte(fmt.Sprint(i)))
	}
	for _, tot := range []int{1, 3, 7} {
		seen := map[string]int{}
		for n := 1; n <= tot; n++ {
			f, err := subsetFunc(fmt.Sprintf("%d/%d", n, tot))
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range ids {
				if f(id) {
					seen[id]++
				}
			}
		}
		for _, id := range ids {
			if seen[id] != 1 {
				t.Fatalf("%d groups: %s selected %d times", tot, id, seen[id])
			}
		}
	}
	f, _ := subsetFunc("10%")
	c := 0
	for _, id := range ids {
		if f(id) {
			c++
		}
	}
	if c < 60 || c > 140 {
		t.Fatalf("10%% selected %d of 1000", c)
	}
}
