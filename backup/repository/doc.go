// Package repository stores backup data in a gocloud.dev/blob bucket in the
// format that backup/FORMAT.md describes: a config, passphrase-wrapped keys,
// content-addressed sealed data objects, index files, snapshot manifests named
// by their hash, retention records, locks and the two-phase prune.
//
// It knows nothing about warehouses: package backup writes table data as
// Parquet files, hands them to a Session, and commits a Manifest. This package
// stores, deduplicates, seals, verifies, retains and deletes them.
//
// The shortest use:
//
//	repo, err := repository.Init(ctx, "file:///backups/wh", repository.InitOptions{
//		Options: repository.Options{Passphrase: secret},
//	})
//	s := repo.NewSession()
//	part, err := s.PutFile(ctx, "/tmp/orders-0.parquet", repository.ObjectMeta{Rows: 1000})
//	id, err := s.Commit(ctx, &repository.Manifest{Kind: "full", Tables: tablesJSON})
//	snaps, err := repo.List(ctx)
//	report, err := repo.Verify(ctx, repository.VerifyOptions{ReadData: true})
//
// Writes follow restic's order (data, then index, then manifest), so a crash
// never leaves a manifest that points at nothing; deletion removes references
// before data, and prune deletes data in two phases (mark without a lock,
// sweep under a short exclusive lock) so that it can run beside backups.
//
// Package repotest has the buckets the tests use: an in-process S3
// (gofakes3) and a bucket that enforces object lock retention.
package repository
