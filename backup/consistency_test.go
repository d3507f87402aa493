package backup

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dataopskit/dataops/warehouse"
)

// A PostgreSQL backup reads all its tables in one exported snapshot, even
// while writers change them: transfers between two tables keep the total of
// both constant, so a backup that read the tables at different instants would
// restore a different total.
func TestPostgresBackupIsOneSnapshotUnderWrites(t *testing.T) {
	ctx := context.Background()
	w, schema := openPG(t)
	repo := initRepo(t, "mem://", "")
	const rows, balance = 2000, 100
	cols := []warehouse.Column{{Name: "id", Type: warehouse.Integer}, {Name: "bal", Type: warehouse.Integer}}
	row := func(i int) []any { return []any{int64(i), int64(balance)} }
	a := makeTable(t, w, schema, "acct_a", cols, []string{"id"}, rows, row)
	b := makeTable(t, w, schema, "acct_b", cols, []string{"id"}, rows, row)
	d := w.Dialect()
	move := "UPDATE " + d.QuoteRelation(a) + " SET bal = bal - 1 WHERE id = $1"
	give := "UPDATE " + d.QuoteRelation(b) + " SET bal = bal + 1 WHERE id = $1"

	stop := make(chan struct{})
	var transfers atomic.Int64
	var wg sync.WaitGroup
	var writeErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		r := rand.New(rand.NewPCG(1, 2))
		for {
			select {
			case <-stop:
				return
			default:
			}
			err := w.WithTx(ctx, func(tx *warehouse.Tx) error {
				if _, err := tx.Exec(ctx, move, r.IntN(rows)); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, give, r.IntN(rows))
				return err
			})
			if err != nil {
				writeErr = err
				return
			}
			transfers.Add(1)
		}
	}()
	// several backups while the transfers run
	var ids []string
	for range 3 {
		s, err := Backup(ctx, repo, w, Options{Tables: []string{schema}, Concurrency: 2})
		if err != nil {
			close(stop)
			wg.Wait()
			t.Fatal(err)
		}
		ids = append(ids, s.ID)
	}
	close(stop)
	wg.Wait()
	if writeErr != nil {
		t.Fatal(writeErr)
	}
	if transfers.Load() == 0 {
		t.Fatal("no transfer ran during the backups: the test proves nothing")
	}
	for _, id := range ids {
		rr, err := Restore(ctx, repo, w, RestoreOptions{Snapshot: id, Schema: schema + "_restored", Overwrite: true})
		if err != nil {
			t.Fatal(err)
		}
		if rr.Rows != 2*rows {
			t.Fatalf("snapshot %s restored %d rows, want %d", id[:12], rr.Rows, 2*rows)
		}
		var total int64
		if err := w.Get(ctx, &total, "SELECT (SELECT sum(bal) FROM "+d.QuoteRelation(warehouse.Rel(schema+"_restored", "acct_a"))+
			") + (SELECT sum(bal) FROM "+d.QuoteRelation(warehouse.Rel(schema+"_restored", "acct_b"))+")"); err != nil {
			t.Fatal(err)
		}
		if total != 2*rows*balance {
			t.Fatalf("snapshot %s: the two tables total %d, want %d: they were not read in one snapshot", id[:12], total, 2*rows*balance)
		}
	}
	t.Logf("%d transfers ran during 3 backups", transfers.Load())
}
