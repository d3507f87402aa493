package repository_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/dataopskit/dataops/backup/repository"
)

// A backup stores its Parquet parts through a Session and commits a
// manifest naming them; the snapshot can then be listed, verified and
// restored from the repository alone.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "repo-example")
	defer os.RemoveAll(dir)

	repo, err := repository.Init(ctx, "file://"+filepath.Join(dir, "repo"), repository.InitOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer repo.Close()

	part := filepath.Join(dir, "orders-0.parquet")
	os.WriteFile(part, []byte("stand-in for a Parquet file"), 0o644)

	s := repo.NewSession()
	info, err := s.PutFile(ctx, part, repository.ObjectMeta{Kind: "raw", Rows: 1})
	if err != nil {
		log.Fatal(err)
	}
	tables, _ := json.Marshal([]any{map[string]any{
		"schema": "raw", "name": "orders", "rows": 1, "fingerprint": map[string]any{"count": 1},
		"data": map[string]any{"mode": "full", "parts": []any{map[string]any{"id": info.ID, "rows": 1}}},
	}})
	id, err := s.Commit(ctx, &repository.Manifest{Kind: "full", Tags: []string{"nightly"}, Tables: tables})
	if err != nil {
		log.Fatal(err)
	}

	snaps, _ := repo.List(ctx)
	fmt.Println(len(snaps), "snapshot, tables", snaps[0].Tables, "tags", snaps[0].Tags, "same id:", snaps[0].ID == id)

	report, _ := repo.Verify(ctx, repository.VerifyOptions{ReadData: true})
	fmt.Println("verified:", report.OK(), "objects read:", report.ObjectsRead)

	restored := filepath.Join(dir, "restored.parquet")
	if err := repo.FetchFile(ctx, info.ID, restored); err != nil {
		log.Fatal(err)
	}
	b, _ := os.ReadFile(restored)
	fmt.Println(string(b))
	// Output:
	// 1 snapshot, tables [raw.orders] tags [nightly] same id: true
	// verified: true objects read: 1
	// stand-in for a Parquet file
}

// Forget applies restic's policy; locked snapshots are always kept.
func ExampleRepository_Forget() {
	ctx := context.Background()
	repo, err := repository.Init(ctx, "mem://", repository.InitOptions{})
	if err != nil {
		log.Fatal(err)
	}
	for i := range 3 {
		if _, err := repo.NewSession().Commit(ctx, &repository.Manifest{Tags: []string{fmt.Sprint("run-", i)}}); err != nil {
			log.Fatal(err)
		}
	}
	res, err := repo.Forget(ctx, repository.Policy{Last: 1}, repository.ForgetOptions{DryRun: true})
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range res.Groups[0].Decisions {
		fmt.Println(d.Snapshot.Tags, d.Keep, d.Reasons)
	}
	// Output:
	// [run-2] true [last snapshot]
	// [run-1] false []
	// [run-0] false []
}
