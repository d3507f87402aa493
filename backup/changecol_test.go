package backup

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dataopskit/dataops/backup/repository"
	"github.com/dataopskit/dataops/warehouse"
)

var changeCols = []warehouse.Column{
	{Name: "id", Type: warehouse.Integer, Nullable: false},
	{Name: "name", Type: warehouse.String, Nullable: true},
	{Name: "amount", Type: warehouse.Integer, Nullable: true},
	{Name: "ts", Type: warehouse.Timestamp, Nullable: true},
}

var changeBase = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func changeRow(i int) []any {
	return []any{int64(i), "row " + strings.Repeat("x", i%7), int64(i % 13), changeBase.Add(time.Duration(i) * time.Second)}
}

// versionCols is a table whose change column is an integer version.
var versionCols = []warehouse.Column{
	{Name: "k", Type: warehouse.Integer, Nullable: false},
	{Name: "val", Type: warehouse.Integer, Nullable: true},
	{Name: "ver", Type: warehouse.Integer, Nullable: false},
}

func versionRow(i int) []any { return []any{int64(i), int64(i * 3), int64(1)} }

// warnings collects the warning messages of change columns not used.
type warnings struct {
	mu  sync.Mutex
	msg []string
}

func (w *warnings) events(ev Event) {
	if strings.HasPrefix(ev.Message, "change column") {
		w.mu.Lock()
		w.msg = append(w.msg, ev.Message)
		w.mu.Unlock()
	}
}

func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	m := w.msg
	w.msg = nil
	return m
}

// Incrementals with change columns, on DuckDB and PostgreSQL over file://
// and mem://: each records exactly the rows inserted, updated or deleted
// (Written), through the change column (changeDeltas), with the table's
// fingerprint; every snapshot of the chain, and a synthetic full of it,
// restores to the table as it was.
func TestChangeColumnIncrementals(t *testing.T) {
	ctx := context.Background()
	for _, ec := range engines() {
		for _, rp := range repos() {
			if rp.name == "s3" {
				continue
			}
			t.Run(ec.name+"/"+rp.name, func(t *testing.T) {
				w, schema := ec.open(t)
				tbl := makeTable(t, w, schema, "t", changeCols, []string{"id"}, 500, changeRow)
				ver := makeTable(t, w, schema, "v", versionCols, []string{"k"}, 300, versionRow)
				q, qv := w.Dialect().QuoteRelation(tbl), w.Dialect().QuoteRelation(ver)
				repo := rp.open(t)
				var warn warnings
				opts := Options{
					Tables:        []string{schema + ".t", schema + ".v"},
					ChangeColumns: map[string]string{schema + ".t": "ts", schema + ".v": "ver"},
					Events:        warn.events,
				}
				res, err := Backup(ctx, repo, w, opts)
				if err != nil {
					t.Fatal(err)
				}
				e := res.Tables[0]
				if e.ChangeColumn != "ts" || e.ChangeMark != "2026-01-01 00:08:19.000000" {
					t.Fatalf("full: change column %q mark %q", e.ChangeColumn, e.ChangeMark)
				}
				if v := res.Tables[1]; v.ChangeColumn != "ver" || v.ChangeMark != "1" {
					t.Fatalf("full: change column %q mark %q", v.ChangeColumn, v.ChangeMark)
				}
				type snap struct {
					id      string
					t, v    Fingerprint
					entries []Table
				}
				snaps := []snap{{res.ID, entryFingerprint(t, w, tbl, &res.Tables[0]), entryFingerprint(t, w, ver, &res.Tables[1]), res.Tables}}
				at := func(k int) string { return "TIMESTAMP '2027-01-0" + string(rune('0'+k)) + " 00:00:00'" }
				// each statement's affected rows are written once, a key
				// change's twice (a delete and an upsert)
				type stmt struct {
					sql    string
					factor int64
				}
				// the candidates are the rows at or above the parent's
				// marks (those inserted or updated since, and those the
				// parent saw at its mark)
				ph := placeholder(w.Dialect(), 1)
				candidates := func(parent *Result) int64 {
					var n, m int64
					if err := w.Get(ctx, &n, "SELECT count(*) FROM "+q+" WHERE ts >= CAST("+ph+" AS TIMESTAMP)", parent.Tables[0].ChangeMark); err != nil {
						t.Fatal(err)
					}
					if err := w.Get(ctx, &m, "SELECT count(*) FROM "+qv+" WHERE ver >= CAST("+ph+" AS BIGINT)", parent.Tables[1].ChangeMark); err != nil {
						t.Fatal(err)
					}
					return n + m
				}
				steps := []struct {
					name string
					sql  []stmt
					mode string
				}{
					{"inserts", []stmt{{"INSERT INTO " + q + " SELECT id + 1000, name, amount, " + at(1) + " FROM " + q + " WHERE id < 20", 1},
						{"UPDATE " + qv + " SET val = val + 1, ver = 2 WHERE k % 10 = 0", 1}}, ModeDelta},
					{"updates", []stmt{{"UPDATE " + q + " SET name = 'changed', ts = " + at(2) + " WHERE id % 17 = 0", 1}}, ModeDelta},
					{"deletes", []stmt{{"DELETE FROM " + q + " WHERE id % 31 = 5", 1}, {"DELETE FROM " + qv + " WHERE k % 50 = 1", 1}}, ModeDelta},
					{"mixed", []stmt{
						{"UPDATE " + q + " SET amount = amount + 100, ts = " + at(4) + " WHERE id % 43 = 1", 1},
						{"INSERT INTO " + q + " SELECT id + 2000, name, amount, " + at(4) + " FROM " + q + " WHERE id < 5", 1},
						{"DELETE FROM " + q + " WHERE id % 37 = 2 AND id < 1000 AND id % 43 <> 1", 1},
						{"UPDATE " + qv + " SET ver = 3, val = 0 WHERE k = 7", 1}}, ModeDelta},
					{"key change", []stmt{{"UPDATE " + q + " SET id = id + 5000, ts = " + at(5) + " WHERE id % 61 = 3", 2}}, ModeDelta},
					{"no change", nil, ModeSame},
				}
				for _, st := range steps {
					var written int64
					for _, s := range st.sql {
						r, err := w.Exec(ctx, s.sql)
						if err != nil {
							t.Fatal(err)
						}
						n, err := r.RowsAffected()
						if err != nil || n == 0 {
							t.Fatalf("%s: %d rows affected (%v)", s.sql, n, err)
						}
						written += s.factor * n
					}
					cands := candidates(res)
					before, beforeCands := changeDeltas.Load(), changeCandidates.Load()
					inc, err := Backup(ctx, repo, w, Options{Tables: opts.Tables, ChangeColumns: opts.ChangeColumns, Parent: res.ID, Events: warn.events})
					if err != nil {
						t.Fatalf("%s: %v", st.name, err)
					}
					if n := changeDeltas.Load() - before; n != 2 {
						t.Fatalf("%s: %d of 2 tables through the change column (%v)", st.name, n, warn.take())
					}
					if n := changeCandidates.Load() - beforeCands; n != cands {
						t.Fatalf("%s: %d candidate rows examined, %d at or above the marks", st.name, n, cands)
					}
					for i, rel := range []warehouse.Relation{tbl, ver} {
						e := inc.Tables[i]
						if want := entryFingerprint(t, w, rel, &e); e.Fingerprint != want || e.Rows != want.Count {
							t.Fatalf("%s: %s entry %v, table %v", st.name, rel, e.Fingerprint, want)
						}
					}
					if e := inc.Tables[0]; e.Data.Mode != st.mode || inc.Written != written {
						t.Fatalf("%s: mode %s, %d rows written, want %s, %d", st.name, e.Data.Mode, inc.Written, st.mode, written)
					}
					snaps = append(snaps, snap{inc.ID, entryFingerprint(t, w, tbl, &inc.Tables[0]), entryFingerprint(t, w, ver, &inc.Tables[1]), inc.Tables})
					res = inc
				}
				if w := warn.take(); len(w) > 0 {
					t.Fatalf("warnings: %v", w)
				}
				// an overlap re-examines older rows, which cost nothing
				r, err := w.Exec(ctx, "UPDATE "+q+" SET name = 'again', ts = "+at(6)+" WHERE id % 53 = 4")
				if err != nil {
					t.Fatal(err)
				}
				touched, _ := r.RowsAffected()
				before := changeDeltas.Load()
				inc, err := Backup(ctx, repo, w, Options{Tables: opts.Tables, ChangeColumns: opts.ChangeColumns, ChangeOverlap: 1000 * time.Hour, Parent: res.ID})
				if err != nil {
					t.Fatal(err)
				}
				if e := inc.Tables[0]; changeDeltas.Load()-before != 2 || touched < 5 || inc.Written != touched || e.Fingerprint != entryFingerprint(t, w, tbl, &e) {
					t.Fatalf("overlap: %d rows written, entry %v", inc.Written, e.Fingerprint)
				}
				snaps = append(snaps, snap{inc.ID, entryFingerprint(t, w, tbl, &inc.Tables[0]), entryFingerprint(t, w, ver, &inc.Tables[1]), inc.Tables})
				// every snapshot restores to the tables as they were
				side := schema + "_restored"
				for i, s := range snaps {
					if _, err := Restore(ctx, repo, w, RestoreOptions{Snapshot: s.id, Schema: side, Overwrite: true}); err != nil {
						t.Fatalf("snapshot %d: %v", i, err)
					}
					for j, want := range []Fingerprint{s.t, s.v} {
						e := s.entries[j]
						if got := entryFingerprint(t, w, warehouse.Rel(side, e.Name), &e); got != want {
							t.Fatalf("snapshot %d restored %s %v, want %v", i, e.Name, got, want)
						}
					}
				}
				// a synthetic full of the chain restores the same
				last := snaps[len(snaps)-1]
				syn, err := Synthesize(ctx, repo, last.id, Options{})
				if err != nil {
					t.Fatal(err)
				}
				if syn.Tables[0].ChangeMark != last.entries[0].ChangeMark {
					t.Fatalf("synthetic mark %q, want %q", syn.Tables[0].ChangeMark, last.entries[0].ChangeMark)
				}
				if _, err := Restore(ctx, repo, w, RestoreOptions{Snapshot: syn.ID, Schema: side, Overwrite: true}); err != nil {
					t.Fatal(err)
				}
				if got := entryFingerprint(t, w, warehouse.Rel(side, "t"), &last.entries[0]); got != last.t {
					t.Fatalf("synthetic restored %v, want %v", got, last.t)
				}
				if rep, err := repo.Verify(ctx, repository.VerifyOptions{ReadData: true}); err != nil || len(rep.Problems) > 0 {
					t.Fatalf("verify: %v %v", err, rep)
				}
				// an incremental on the synthetic full still uses the column
				mustExec(t, w, "UPDATE "+q+" SET amount = -1, ts = "+at(7)+" WHERE id = 100")
				before = changeDeltas.Load()
				inc, err = Backup(ctx, repo, w, Options{Tables: []string{schema + ".t"}, ChangeColumns: map[string]string{schema + ".t": "ts"}, Parent: syn.ID})
				if err != nil {
					t.Fatal(err)
				}
				if e := inc.Tables[0]; changeDeltas.Load()-before != 1 || inc.Written != 1 || e.Fingerprint != entryFingerprint(t, w, tbl, &e) {
					t.Fatalf("on the synthetic full: %d rows written, entry %v", inc.Written, e.Fingerprint)
				}
			})
		}
	}
}

// A change column whose contract is visibly broken — NULL, values gone
// backwards, missing, an insert below the mark, no key — makes the backup
// compare every row, with a warning naming the table and column, and the
// delta is still right.
func TestChangeColumnFallbacks(t *testing.T) {
	ctx := context.Background()
	for _, ec := range engines() {
		t.Run(ec.name, func(t *testing.T) {
			w, schema := ec.open(t)
			tbl := makeTable(t, w, schema, "t", changeCols, []string{"id"}, 200, changeRow)
			nokey := makeTable(t, w, schema, "nokey", changeCols, nil, 50, changeRow)
			q := w.Dialect().QuoteRelation(tbl)
			repo := initRepo(t, "mem://", "")
			var warn warnings
			cc := map[string]string{schema + ".t": "ts"}
			backup := func(parent string, cc map[string]string, tables ...string) *Result {
				t.Helper()
				if tables == nil {
					tables = []string{schema + ".t"}
				}
				res, err := Backup(ctx, repo, w, Options{Tables: tables, ChangeColumns: cc, Parent: parent, Events: warn.events})
				if err != nil {
					t.Fatal(err)
				}
				return res
			}
			res := backup("", cc)
			cases := []struct {
				name    string
				sql     string
				cc      map[string]string
				written int64
				warning string
				mark    bool // the new entry has a mark
			}{
				{"NULL", "UPDATE " + q + " SET ts = NULL, name = 'n' WHERE id = 3", cc, 1, "is NULL in 1 rows", false},
				{"no parent mark", "UPDATE " + q + " SET ts = TIMESTAMP '2028-01-01 00:00:00' WHERE id = 3", cc, 1, "parent entry has no mark", true},
				{"backwards", "UPDATE " + q + " SET ts = TIMESTAMP '1990-01-01 00:00:00', name = 'b' WHERE id < 10 OR id = 3", cc, 10, "went backwards", true},
				{"insert below the mark", "INSERT INTO " + q + " VALUES (9999, 'late', 1, TIMESTAMP '1980-01-01 00:00:00')", cc, 1, "inserted with a change value below the mark", true},
				{"missing column", "UPDATE " + q + " SET amount = 77 WHERE id = 20", map[string]string{schema + ".t": "nosuch"}, 1, `"nosuch" not found`, false},
			}
			for _, c := range cases {
				mustExec(t, w, c.sql)
				before := changeDeltas.Load()
				inc := backup(res.ID, c.cc)
				e := inc.Tables[0]
				if changeDeltas.Load() != before {
					t.Fatalf("%s: delta through the change column", c.name)
				}
				if want := entryFingerprint(t, w, tbl, &e); e.Fingerprint != want || inc.Written != c.written {
					t.Fatalf("%s: entry %v, table %v, %d rows written, want %d", c.name, e.Fingerprint, want, inc.Written, c.written)
				}
				msgs := warn.take()
				if len(msgs) != 1 || !strings.Contains(msgs[0], c.warning) || !strings.Contains(msgs[0], schema+".t") {
					t.Fatalf("%s: warnings %q, want one with %q", c.name, msgs, c.warning)
				}
				if (e.ChangeMark != "") != c.mark {
					t.Fatalf("%s: mark %q", c.name, e.ChangeMark)
				}
				res = inc
			}
			// an update that does not raise the column breaks the contract
			// unseen: the change column misses it (as documented), the
			// live table's fingerprint shows it, and a backup that
			// compares every row carries it
			marked := backup(res.ID, cc) // the last case's entry has no mark
			mustExec(t, w, "UPDATE "+q+" SET name = 'unseen' WHERE id = 150")
			missed := backup(marked.ID, cc)
			if e := missed.Tables[0]; missed.Written != 0 || e.Data.Mode != ModeSame || e.Fingerprint == entryFingerprint(t, w, tbl, &e) {
				t.Fatalf("update below the mark: %d rows written, mode %s", missed.Written, e.Data.Mode)
			}
			caught := backup(missed.ID, nil)
			if e := caught.Tables[0]; caught.Written != 1 || e.Fingerprint != entryFingerprint(t, w, tbl, &e) {
				t.Fatalf("full compare after a missed update: %d rows written", caught.Written)
			}
			warn.take()
			// no key: deletes cannot be counted
			nk := map[string]string{schema + ".nokey": "ts"}
			full := backup("", nk, schema+".nokey")
			mustExec(t, w, "DELETE FROM "+w.Dialect().QuoteRelation(nokey)+" WHERE id < 5")
			inc := backup(full.ID, nk, schema+".nokey")
			if e := inc.Tables[0]; inc.Written != 5 || e.Fingerprint != entryFingerprint(t, w, nokey, &e) {
				t.Fatalf("no key: %d rows written", inc.Written)
			}
			if msgs := warn.take(); len(msgs) != 1 || !strings.Contains(msgs[0], "no primary key") {
				t.Fatalf("no key: warnings %q", msgs)
			}
			// a table named that is not backed up
			if _, err := Backup(ctx, repo, w, Options{Tables: []string{schema + ".t"}, ChangeColumns: map[string]string{schema + ".other": "ts"}}); err == nil || !strings.Contains(err.Error(), "not a table backed up") {
				t.Fatalf("unknown table: %v", err)
			}
		})
	}
}

// Date and timestamptz change columns: marks in UTC, and a date column
// written again on its mark's day (a coarse clock) loses nothing, on
// DuckDB and PostgreSQL.
func TestChangeColumnDateAndTimestampTZ(t *testing.T) {
	ctx := context.Background()
	cols := []warehouse.Column{
		{Name: "id", Type: warehouse.Integer, Nullable: false},
		{Name: "v", Type: warehouse.String, Nullable: true},
		{Name: "day", Type: warehouse.Date, Nullable: false},
		{Name: "changed_at", Type: warehouse.TimestampTZ, Nullable: false},
	}
	row := func(i int) []any {
		at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute)
		return []any{int64(i), "v", at.Truncate(24 * time.Hour), at}
	}
	for _, ec := range engines() {
		t.Run(ec.name, func(t *testing.T) {
			w, schema := ec.open(t)
			byDay := makeTable(t, w, schema, "by_day", cols, []string{"id"}, 100, row)
			byTZ := makeTable(t, w, schema, "by_tz", cols, []string{"id"}, 100, row)
			qd, qt := w.Dialect().QuoteRelation(byDay), w.Dialect().QuoteRelation(byTZ)
			repo := initRepo(t, "mem://", "")
			opts := Options{Tables: []string{schema + ".by_day", schema + ".by_tz"}, ChangeColumns: map[string]string{schema + ".by_day": "day", schema + ".by_tz": "changed_at"}}
			full, err := Backup(ctx, repo, w, opts)
			if err != nil {
				t.Fatal(err)
			}
			if d, z := full.Tables[0].ChangeMark, full.Tables[1].ChangeMark; d != "2026-03-01" || z != "2026-03-01 13:39:00.000000+00" {
				t.Fatalf("marks %q, %q", d, z)
			}
			// written again on the mark's day; at a later instant given
			// in another time zone
			mustExec(t, w, "UPDATE "+qd+" SET v = 'same day' WHERE id < 4")
			mustExec(t, w, "UPDATE "+qt+" SET v = 'later', changed_at = CAST('2026-03-01 20:00:00+05' AS TIMESTAMPTZ) WHERE id < 3")
			opts.Parent = full.ID
			before := changeDeltas.Load()
			inc, err := Backup(ctx, repo, w, opts)
			if err != nil {
				t.Fatal(err)
			}
			if changeDeltas.Load()-before != 2 || inc.Written != 4+3 {
				t.Fatalf("%d change deltas, %d rows written", changeDeltas.Load()-before, inc.Written)
			}
			for i, rel := range []warehouse.Relation{byDay, byTZ} {
				if e := inc.Tables[i]; e.Fingerprint != entryFingerprint(t, w, rel, &e) {
					t.Fatalf("%s: entry %v", rel, e.Fingerprint)
				}
			}
			if z := inc.Tables[1].ChangeMark; z != "2026-03-01 15:00:00.000000+00" {
				t.Fatalf("timestamptz mark %q", z)
			}
		})
	}
}
