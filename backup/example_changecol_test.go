package backup_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/dataopskit/dataops/backup"
	"github.com/dataopskit/dataops/backup/repository"
	"github.com/dataopskit/dataops/warehouse"
	_ "github.com/dataopskit/dataops/warehouse/duckdb"
)

// An incremental backup that reads only the rows a change column marks as
// written since the parent: every writer of raw.orders sets updated_at to
// now(), so the incremental hashes the rows at or above the full's mark
// instead of the whole table, and counts deletes instead of joining every
// key.
func ExampleOptions_changeColumns() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "backup-example-")
	defer os.RemoveAll(dir)
	w, err := warehouse.Open(ctx, "duckdb:")
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	for _, q := range []string{
		"CREATE SCHEMA raw",
		"CREATE TABLE raw.orders (id BIGINT PRIMARY KEY, status VARCHAR, updated_at TIMESTAMP)",
		"INSERT INTO raw.orders SELECT i, 'placed', TIMESTAMP '2026-01-01' FROM range(1000) t(i)",
	} {
		if _, err := w.Exec(ctx, q); err != nil {
			log.Fatal(err)
		}
	}
	repo, err := repository.Init(ctx, "file://"+dir, repository.InitOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer repo.Close()
	opts := backup.Options{
		Tables:        []string{"raw.orders"},
		ChangeColumns: map[string]string{"raw.orders": "updated_at"},
	}
	full, err := backup.Backup(ctx, repo, w, opts)
	if err != nil {
		log.Fatal(err)
	}
	for _, q := range []string{
		"UPDATE raw.orders SET status = 'shipped', updated_at = now() WHERE id < 10",
		"INSERT INTO raw.orders VALUES (1000, 'placed', now())",
		"DELETE FROM raw.orders WHERE id = 999",
	} {
		if _, err := w.Exec(ctx, q); err != nil {
			log.Fatal(err)
		}
	}
	opts.Incremental = true
	inc, err := backup.Backup(ctx, repo, w, opts)
	if err != nil {
		log.Fatal(err)
	}
	e := inc.Tables[0]
	fmt.Println(full.Kind, full.Rows, "rows; change column", e.ChangeColumn)
	fmt.Println(inc.Kind, inc.Rows, "rows,", inc.Written, "rows written (10 updated, 1 inserted, 1 deleted)")
	// Output:
	// full 1000 rows; change column updated_at
	// incremental 1000 rows, 12 rows written (10 updated, 1 inserted, 1 deleted)
}
