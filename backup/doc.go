// Package backup will keep a verified, immutable, incremental backup
// repository for warehouses in any gocloud.dev/blob bucket: full and
// incremental backups, snapshots, retention, replication and restore.
//
// It holds no API yet: its issue (backup) builds it, starting from
// backup/FORMAT.md. See DESIGN.md.
package backup
