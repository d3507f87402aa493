package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/dataopskit/dataops/backup"
	"github.com/dataopskit/dataops/backup/repository"
	"github.com/dataopskit/dataops/warehouse"
)

func init() { extraCommands = append(extraCommands, newBackupCmd) }

// Environment variables of the backup commands.
const (
	envRepo     = "DATAOPS_REPO"
	envPassword = "DATAOPS_PASSWORD"
)

// backupFlags are the flags every backup subcommand shares.
type backupFlags struct {
	repo, passwordFile string
	json               bool
}

func (f *backupFlags) repoURL() (string, error) {
	u := f.repo
	if u == "" {
		u = os.Getenv(envRepo)
	}
	if u == "" {
		return "", fmt.Errorf("no repository: give --repo URL or set $%s", envRepo)
	}
	return u, nil
}

func (f *backupFlags) passphrase() (string, error) {
	if f.passwordFile != "" {
		b, err := os.ReadFile(f.passwordFile)
		if err != nil {
			return "", fmt.Errorf("password file: %w", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return os.Getenv(envPassword), nil
}

func (f *backupFlags) open(cmd *cobra.Command, log *slog.Logger) (*repository.Repository, error) {
	u, err := f.repoURL()
	if err != nil {
		return nil, err
	}
	pass, err := f.passphrase()
	if err != nil {
		return nil, err
	}
	return repository.Open(cmd.Context(), u, repository.OpenOptions{Options: repository.Options{Passphrase: pass, Logger: log}})
}

// withRepo wraps the body of a subcommand that works on the open repository.
func (f *backupFlags) withRepo(logger func(*cobra.Command) *slog.Logger, body func(cmd *cobra.Command, args []string, r *repository.Repository, log *slog.Logger) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		log := logger(cmd)
		r, err := f.open(cmd, log)
		if err != nil {
			return err
		}
		defer r.Close()
		return body(cmd, args, r, log)
	}
}

func (f *backupFlags) print(out io.Writer, v any, text func(io.Writer)) error {
	if f.json {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	text(out)
	return nil
}

func newBackupCmd(logger func(*cobra.Command) *slog.Logger) *cobra.Command {
	f := &backupFlags{}
	cmd := &cobra.Command{
		Use:   "backup",
		Short: "Back up warehouse tables into a verified, incremental, immutable repository, and restore them",
		Long: `backup keeps snapshots of warehouse tables in a repository in any bucket
(file:///dir, mem://, s3://bucket?endpoint=…, gs://…, azblob://…), as backup/FORMAT.md describes.
The repository comes from --repo or $` + envRepo + `; its passphrase from $` + envPassword + ` or
--password-file (none: an unencrypted repository).`,
		Example: `  dataops backup init --repo file:///backups/wh
  dataops backup create --repo file:///backups/wh --target duckdb:wh.duckdb
  dataops backup create --repo file:///backups/wh --target duckdb:wh.duckdb --incremental
  dataops backup restore --repo file:///backups/wh --target duckdb:wh.duckdb --schema drill`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.repo, "repo", "", "repository URL (default $"+envRepo+")")
	pf.StringVar(&f.passwordFile, "password-file", "", "file holding the passphrase (default $"+envPassword+")")
	pf.BoolVar(&f.json, "json", false, "print results as JSON")
	cmd.AddCommand(
		backupInitCmd(f, logger), backupCreateCmd(f, logger), backupListCmd(f, logger), backupShowCmd(f, logger),
		backupVerifyCmd(f, logger), backupRestoreCmd(f, logger), backupForgetCmd(f, logger), backupPruneCmd(f, logger),
		backupLockCmd(f, logger), backupDiffCmd(f, logger), backupVersionsCmd(f, logger), backupSynthCmd(f, logger),
	)
	return cmd
}

func backupInitCmd(f *backupFlags, logger func(*cobra.Command) *slog.Logger) *cobra.Command {
	var partRows int64
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create a repository",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			u, err := f.repoURL()
			if err != nil {
				return err
			}
			pass, err := f.passphrase()
			if err != nil {
				return err
			}
			r, err := repository.Init(cmd.Context(), u, repository.InitOptions{
				Options: repository.Options{Passphrase: pass, Logger: logger(cmd)}, PartRows: partRows,
			})
			if err != nil {
				return err
			}
			defer r.Close()
			c := r.Config()
			return f.print(cmd.OutOrStdout(), c, func(out io.Writer) {
				enc := "unencrypted"
				if r.Encrypted() {
					enc = "encrypted"
				}
				fmt.Fprintf(out, "created %s repository %s at %s\n", enc, c.ID[:12], warehouse.RedactURL(u))
			})
		},
	}
	cmd.Flags().Int64Var(&partRows, "part-rows", 0, "rows per Parquet part (default 1,000,000)")
	return cmd
}

func backupCreateCmd(f *backupFlags, logger func(*cobra.Command) *slog.Logger) *cobra.Command {
	var (
		target, parent string
		tables, tags   []string
		incremental    bool
		lockFor        time.Duration
		compliance     bool
		changeCols     []string
		changeOverlap  time.Duration
	)
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Take a snapshot of a warehouse's tables: full, or incremental against the latest",
		Args:  cobra.NoArgs,
		RunE: f.withRepo(logger, func(cmd *cobra.Command, args []string, r *repository.Repository, log *slog.Logger) error {
			w, err := openTarget(cmd, target, log)
			if err != nil {
				return err
			}
			defer w.Close()
			opts := backup.Options{Tables: tables, Tags: tags, Parent: parent, Incremental: incremental, Logger: log, ChangeOverlap: changeOverlap}
			if opts.ChangeColumns, err = parseChangeColumns(changeCols); err != nil {
				return err
			}
			if lockFor > 0 {
				opts.Retention = repository.Retention{LockUntil: time.Now().Add(lockFor).UTC(), Mode: repository.Governance}
				if compliance {
					opts.Retention.Mode = repository.Compliance
				}
			}
			res, err := backup.Backup(cmd.Context(), r, w, opts)
			if err != nil {
				return err
			}
			return f.print(cmd.OutOrStdout(), res, func(out io.Writer) {
				fmt.Fprintf(out, "snapshot %s (%s) of %d tables, %d rows; %d rows written in %d new objects, %s stored, in %s\n",
					res.ID[:12], res.Kind, len(res.Tables), res.Rows, res.Written, res.Objects, bytesText(res.Stored), res.Duration.Round(time.Millisecond))
				tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "TABLE\tMODE\tROWS\tFINGERPRINT")
				for _, t := range res.Tables {
					fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", t.String(), t.Data.Mode, t.Rows, t.Fingerprint)
				}
				tw.Flush()
			})
		}),
	}
	fl := cmd.Flags()
	fl.StringVar(&target, "target", "", "warehouse URL (default $"+envWarehouseURL+")")
	fl.StringSliceVar(&tables, "tables", nil, "tables or schemas to back up: schema.table or schema (default all)")
	fl.StringSliceVar(&tags, "tag", nil, "tags to record")
	fl.BoolVar(&incremental, "incremental", false, "store only changes since the latest snapshot")
	fl.StringVar(&parent, "parent", "", "store only changes since this snapshot")
	fl.DurationVar(&lockFor, "lock-for", 0, "lock the snapshot against deletion for this long")
	fl.BoolVar(&compliance, "compliance", false, "with --lock-for: a compliance lock nobody can shorten")
	fl.StringArrayVar(&changeCols, "change-column", nil, "schema.table=column: a column every insert and update sets to at least any value an earlier backup saw (a write timestamp, a commit sequence); incrementals then read only the rows at or above the parent's mark (repeatable)")
	fl.DurationVar(&changeOverlap, "change-overlap", 0, "with --change-column on date or timestamp columns: also re-examine rows this far below the parent's mark (writers that commit out of order)")
	return cmd
}

// parseChangeColumns reads --change-column values, schema.table=column.
func parseChangeColumns(vals []string) (map[string]string, error) {
	if len(vals) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(vals))
	for _, v := range vals {
		table, col, ok := strings.Cut(v, "=")
		if !ok || !strings.Contains(table, ".") || col == "" {
			return nil, fmt.Errorf("--change-column %q: want schema.table=column", v)
		}
		if _, dup := out[table]; dup {
			return nil, fmt.Errorf("--change-column: table %s given twice", table)
		}
		out[table] = col
	}
	return out, nil
}

func openTarget(cmd *cobra.Command, target string, log *slog.Logger) (*warehouse.Warehouse, error) {
	if target == "" {
		target = os.Getenv(envWarehouseURL)
	}
	if target == "" {
		return nil, fmt.Errorf("no warehouse: give --target URL or set $%s", envWarehouseURL)
	}
	return warehouse.Open(cmd.Context(), target, warehouse.WithLogger(log))
}

func bytesText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func backupListCmd(f *backupFlags, logger func(*cobra.Command) *slog.Logger) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List snapshots, oldest first",
		Args:  cobra.NoArgs,
		RunE: f.withRepo(logger, func(cmd *cobra.Command, args []string, r *repository.Repository, log *slog.Logger) error {
			list, err := r.List(cmd.Context())
			if err != nil {
				return err
			}
			return f.print(cmd.OutOrStdout(), list, func(out io.Writer) {
				tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tTIME\tKIND\tPARENT\tTABLES\tTAGS\tLOCK")
				for _, s := range list {
					lock := ""
					if s.Retention.Locked(time.Now()) {
						lock = "locked"
						if !s.Retention.LockUntil.IsZero() {
							lock += " until " + s.Retention.LockUntil.UTC().Format(time.RFC3339)
						}
						if len(s.Retention.Holds) > 0 {
							lock += " hold " + strings.Join(s.Retention.Holds, ",")
						}
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", s.ID[:12], s.Time.UTC().Format(time.RFC3339), s.Kind,
						shortID(s.Parent), len(s.Tables), strings.Join(s.Tags, ","), lock)
				}
				tw.Flush()
			})
		}),
	}
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func backupShowCmd(f *backupFlags, logger func(*cobra.Command) *slog.Logger) *cobra.Command {
	return &cobra.Command{
		Use:   "show SNAPSHOT",
		Short: "Show a snapshot's manifest: its tables, rows, fingerprints and data",
		Args:  cobra.ExactArgs(1),
		RunE: f.withRepo(logger, func(cmd *cobra.Command, args []string, r *repository.Repository, log *slog.Logger) error {
			s, err := backup.LoadSnapshot(cmd.Context(), r, args[0])
			if err != nil {
				return err
			}
			return f.print(cmd.OutOrStdout(), s, func(out io.Writer) {
				m := s.Manifest
				fmt.Fprintf(out, "snapshot %s\ntime     %s\nkind     %s\nparent   %s\nsource   %s\ntags     %s\n\n", s.ID,
					m.Time.UTC().Format(time.RFC3339Nano), m.Kind, m.Parent, string(m.Source), strings.Join(m.Tags, ","))
				tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "TABLE\tROWS\tMODE\tOBJECTS\tKEY\tFINGERPRINT\tROW HASH")
				for _, t := range s.Tables {
					n := len(t.Data.Parts) + len(t.Data.Upserts) + len(t.Data.Deletes)
					fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%s\t%s\t%s\n", t.String(), t.Rows, t.Data.Mode, n, strings.Join(t.PrimaryKey, ","), t.Fingerprint, t.RowHashKind())
				}
				tw.Flush()
			})
		}),
	}
}

func backupVerifyCmd(f *backupFlags, logger func(*cobra.Command) *slog.Logger) *cobra.Command {
	var readData bool
	var subset string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check the repository's structure and, with --read-data, its data",
		Args:  cobra.NoArgs,
		RunE: f.withRepo(logger, func(cmd *cobra.Command, args []string, r *repository.Repository, log *slog.Logger) error {
			rep, err := r.Verify(cmd.Context(), repository.VerifyOptions{ReadData: readData, Subset: subset})
			if err != nil {
				return err
			}
			type problem struct{ Name, Error string }
			var probs []problem
			for _, p := range rep.Problems {
				probs = append(probs, problem{p.Name, p.String()})
			}
			err = f.print(cmd.OutOrStdout(), map[string]any{"snapshots": rep.Snapshots, "objects": rep.Objects, "objects_read": rep.ObjectsRead, "problems": probs, "ok": rep.OK()}, func(out io.Writer) {
				fmt.Fprintf(out, "%d snapshots, %d indexes, %d objects, %d read (%s)\n", rep.Snapshots, rep.Indexes, rep.Objects, rep.ObjectsRead, bytesText(rep.BytesRead))
				for _, p := range rep.Problems {
					fmt.Fprintln(out, "problem:", p.String())
				}
				if rep.OK() {
					fmt.Fprintln(out, "no problems found")
				}
			})
			if err == nil && !rep.OK() {
				err = fmt.Errorf("verify found %d problems", len(rep.Problems))
			}
			return err
		}),
	}
	cmd.Flags().BoolVar(&readData, "read-data", false, "read every data object and check it")
	cmd.Flags().StringVar(&subset, "read-data-subset", "", "read a subset: n/t or x%")
	return cmd
}

func backupRestoreCmd(f *backupFlags, logger func(*cobra.Command) *slog.Logger) *cobra.Command {
	var (
		target, schema, asOf string
		tables               []string
		overwrite, undrop    bool
	)
	cmd := &cobra.Command{
		Use:   "restore [SNAPSHOT]",
		Short: "Restore a snapshot (default the latest), a schema or tables, over the originals or into --schema",
		Args:  cobra.MaximumNArgs(1),
		RunE: f.withRepo(logger, func(cmd *cobra.Command, args []string, r *repository.Repository, log *slog.Logger) error {
			w, err := openTarget(cmd, target, log)
			if err != nil {
				return err
			}
			defer w.Close()
			opts := backup.RestoreOptions{Tables: tables, Schema: schema, Overwrite: overwrite, Logger: log}
			if len(args) == 1 {
				opts.Snapshot = args[0]
			}
			if asOf != "" {
				if opts.AsOf, err = parseTime(asOf); err != nil {
					return err
				}
			}
			var res *backup.RestoreResult
			if undrop {
				if len(tables) != 1 {
					return errors.New("--undrop takes exactly one table in --tables")
				}
				res, err = backup.Undrop(cmd.Context(), r, w, tables[0], opts)
			} else {
				res, err = backup.Restore(cmd.Context(), r, w, opts)
			}
			if err != nil {
				return err
			}
			return f.print(cmd.OutOrStdout(), res, func(out io.Writer) {
				fmt.Fprintf(out, "restored snapshot %s (%s): %d tables, %d rows, fingerprints match, in %s\n", res.Snapshot[:12],
					res.Time.UTC().Format(time.RFC3339), len(res.Tables), res.Rows, res.Duration.Round(time.Millisecond))
				for _, t := range res.Tables {
					fmt.Fprintf(out, "  %s -> %s  %d rows  %s\n", t.Source, t.Target, t.Rows, t.Fingerprint)
				}
			})
		}),
	}
	fl := cmd.Flags()
	fl.StringVar(&target, "target", "", "warehouse URL (default $"+envWarehouseURL+")")
	fl.StringSliceVar(&tables, "tables", nil, "tables or schemas to restore (default all)")
	fl.StringVar(&schema, "schema", "", "restore side by side into this schema")
	fl.BoolVar(&overwrite, "overwrite", false, "replace tables that exist in --schema")
	fl.StringVar(&asOf, "as-of", "", "restore the latest snapshot at or before this time (RFC 3339)")
	fl.BoolVar(&undrop, "undrop", false, "bring back a dropped table from the latest snapshot holding it")
	return cmd
}

func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q: want RFC 3339, e.g. 2026-11-25T20:00:00Z", s)
}

func backupForgetCmd(f *backupFlags, logger func(*cobra.Command) *slog.Logger) *cobra.Command {
	var (
		p             repository.Policy
		dryRun, prune bool
		override      bool
	)
	cmd := &cobra.Command{
		Use:   "forget [SNAPSHOT...]",
		Short: "Delete snapshots by id or by a retention policy (--keep-*); locked snapshots are kept",
		RunE: f.withRepo(logger, func(cmd *cobra.Command, args []string, r *repository.Repository, log *slog.Logger) error {
			ctx := cmd.Context()
			out := cmd.OutOrStdout()
			var removed []string
			if len(args) > 0 {
				for _, id := range args {
					full, err := r.ResolveID(ctx, id)
					if err != nil {
						return err
					}
					if err := r.Delete(ctx, full, repository.DeleteOptions{DryRun: dryRun}); err != nil {
						return err
					}
					removed = append(removed, full)
				}
			} else {
				res, err := r.Forget(ctx, p, repository.ForgetOptions{DryRun: dryRun, Override: override})
				if err != nil {
					return err
				}
				removed = res.Removed
				if !f.json {
					for _, g := range res.Groups {
						for _, d := range g.Decisions {
							verb := "remove"
							if d.Keep {
								verb = "keep"
							}
							fmt.Fprintf(out, "%-6s %s %s  %s\n", verb, d.Snapshot.ID[:12], d.Snapshot.Time.UTC().Format(time.RFC3339), strings.Join(d.Reasons, ", "))
						}
					}
				}
			}
			var pr *repository.PruneResult
			if prune && !dryRun {
				res, err := r.Prune(ctx, repository.PruneOptions{})
				if err != nil {
					return err
				}
				pr = &res
			}
			return f.print(out, map[string]any{"removed": removed, "prune": pr}, func(out io.Writer) {
				fmt.Fprintf(out, "%d snapshots removed\n", len(removed))
				if pr != nil {
					fmt.Fprintf(out, "prune: %d objects marked, %d deleted\n", len(pr.Marked), len(pr.Deleted))
				}
			})
		}),
	}
	fl := cmd.Flags()
	fl.IntVar(&p.Last, "keep-last", 0, "keep the last n snapshots")
	fl.IntVar(&p.Hourly, "keep-hourly", 0, "keep the last snapshot of each of n hours")
	fl.IntVar(&p.Daily, "keep-daily", 0, "keep the last snapshot of each of n days")
	fl.IntVar(&p.Weekly, "keep-weekly", 0, "keep the last snapshot of each of n weeks")
	fl.IntVar(&p.Monthly, "keep-monthly", 0, "keep the last snapshot of each of n months")
	fl.IntVar(&p.Yearly, "keep-yearly", 0, "keep the last snapshot of each of n years")
	fl.DurationVar(&p.Within, "keep-within", 0, "keep snapshots newer than this before the latest")
	fl.StringSliceVar(&p.Tags, "keep-tag", nil, "keep snapshots with this tag")
	fl.StringVar(&p.GroupBy, "group-by", "", "group snapshots by host, source, tables, tags")
	fl.BoolVar(&dryRun, "dry-run", false, "only say what would be removed")
	fl.BoolVar(&prune, "prune", false, "prune unreferenced data afterwards")
	fl.BoolVar(&override, "override", false, "forget past governance locks")
	return cmd
}

func backupPruneCmd(f *backupFlags, logger func(*cobra.Command) *slog.Logger) *cobra.Command {
	var window time.Duration
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "prune",
		Short: "Delete data no snapshot references (in two phases: mark now, sweep after the safety window)",
		Args:  cobra.NoArgs,
		RunE: f.withRepo(logger, func(cmd *cobra.Command, args []string, r *repository.Repository, log *slog.Logger) error {
			res, err := r.Prune(cmd.Context(), repository.PruneOptions{SafetyWindow: window, DryRun: dryRun})
			if err != nil {
				return err
			}
			return f.print(cmd.OutOrStdout(), res, func(out io.Writer) {
				fmt.Fprintf(out, "%d objects marked, %d deleted (%s), %d kept, %d marks swept\n",
					len(res.Marked), len(res.Deleted), bytesText(res.DeletedBytes), len(res.Kept), res.MarksSwept)
			})
		}),
	}
	cmd.Flags().DurationVar(&window, "safety-window", 0, "age a mark must reach before its sweep (default 1h; negative: now)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "only say what would be done")
	return cmd
}

func backupLockCmd(f *backupFlags, logger func(*cobra.Command) *slog.Logger) *cobra.Command {
	var (
		until, hold, release string
		lockFor              time.Duration
		compliance, override bool
	)
	cmd := &cobra.Command{
		Use:   "lock SNAPSHOT",
		Short: "Lock a snapshot against deletion (--for/--until), or place or release a legal hold",
		Args:  cobra.ExactArgs(1),
		RunE: f.withRepo(logger, func(cmd *cobra.Command, args []string, r *repository.Repository, log *slog.Logger) error {
			ctx := cmd.Context()
			id, err := r.ResolveID(ctx, args[0])
			if err != nil {
				return err
			}
			var t time.Time
			switch {
			case until != "":
				if t, err = parseTime(until); err != nil {
					return err
				}
			case lockFor > 0:
				t = time.Now().Add(lockFor)
			}
			if !t.IsZero() {
				mode := repository.Governance
				if compliance {
					mode = repository.Compliance
				}
				if err := r.Lock(ctx, id, t, mode, repository.LockOptions{Override: override}); err != nil {
					return err
				}
			}
			if hold != "" {
				if err := r.Hold(ctx, id, hold); err != nil {
					return err
				}
			}
			if release != "" {
				if err := r.Release(ctx, id, release); err != nil {
					return err
				}
			}
			if t.IsZero() && hold == "" && release == "" {
				return errors.New("give --for, --until, --hold or --release")
			}
			eff, err := r.EffectiveRetention(ctx, id)
			if err != nil {
				return err
			}
			return f.print(cmd.OutOrStdout(), eff, func(out io.Writer) {
				fmt.Fprintf(out, "snapshot %s: locked=%v", id[:12], eff.Locked(time.Now()))
				if !eff.LockUntil.IsZero() {
					fmt.Fprintf(out, " until %s (%s)", eff.LockUntil.UTC().Format(time.RFC3339), eff.Mode)
				}
				if len(eff.Holds) > 0 {
					fmt.Fprintf(out, " holds %s", strings.Join(eff.Holds, ","))
				}
				fmt.Fprintln(out)
			})
		}),
	}
	fl := cmd.Flags()
	fl.StringVar(&until, "until", "", "lock until this time (RFC 3339)")
	fl.DurationVar(&lockFor, "for", 0, "lock for this long from now")
	fl.BoolVar(&compliance, "compliance", false, "compliance mode: nobody can shorten the lock")
	fl.BoolVar(&override, "override", false, "shorten a governance lock")
	fl.StringVar(&hold, "hold", "", "place a legal hold of this name")
	fl.StringVar(&release, "release", "", "release the legal hold of this name")
	return cmd
}

func backupDiffCmd(f *backupFlags, logger func(*cobra.Command) *slog.Logger) *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "diff TABLE FROM TO",
		Short: "Show rows added, removed and changed in a table (schema.name) between two snapshots",
		Args:  cobra.ExactArgs(3),
		RunE: f.withRepo(logger, func(cmd *cobra.Command, args []string, r *repository.Repository, log *slog.Logger) error {
			var rows []backup.DiffRow
			res, err := backup.Diff(cmd.Context(), r, args[0], args[1], args[2], backup.ReadOptions{}, func(d backup.DiffRow) error {
				if limit < 0 || len(rows) < limit {
					rows = append(rows, d)
				}
				return nil
			})
			if err != nil {
				return err
			}
			return f.print(cmd.OutOrStdout(), map[string]any{"added": res.Added, "removed": res.Removed, "changed": res.Changed, "rows": rows}, func(out io.Writer) {
				fmt.Fprintf(out, "%s: %d added, %d removed, %d changed\n", args[0], res.Added, res.Removed, res.Changed)
				for _, d := range rows {
					switch d.Change {
					case backup.Added:
						fmt.Fprintf(out, "+ %v\n", d.New)
					case backup.Removed:
						fmt.Fprintf(out, "- %v\n", d.Old)
					default:
						fmt.Fprintf(out, "~ %v -> %v\n", d.Old, d.New)
					}
				}
				if res.Count > int64(len(rows)) {
					fmt.Fprintf(out, "… %d more\n", res.Count-int64(len(rows)))
				}
			})
		}),
	}
	cmd.Flags().IntVar(&limit, "limit", 20, "rows to show (-1: all)")
	return cmd
}

func backupVersionsCmd(f *backupFlags, logger func(*cobra.Command) *slog.Logger) *cobra.Command {
	return &cobra.Command{
		Use:   "versions TABLE",
		Short: "List a table's (schema.name) versions across snapshots",
		Args:  cobra.ExactArgs(1),
		RunE: f.withRepo(logger, func(cmd *cobra.Command, args []string, r *repository.Repository, log *slog.Logger) error {
			vs, err := backup.Versions(cmd.Context(), r, args[0])
			if err != nil {
				return err
			}
			return f.print(cmd.OutOrStdout(), vs, func(out io.Writer) {
				tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "SNAPSHOT\tTIME\tKIND\tMODE\tROWS\tCHANGED\tFINGERPRINT")
				for _, v := range vs {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%v\t%s\n", v.Snapshot[:12], v.Time.UTC().Format(time.RFC3339), v.Kind, v.Mode, v.Rows, v.Changed, v.Fingerprint)
				}
				tw.Flush()
			})
		}),
	}
}

func backupSynthCmd(f *backupFlags, logger func(*cobra.Command) *slog.Logger) *cobra.Command {
	return &cobra.Command{
		Use:   "synthesize SNAPSHOT",
		Short: "Compact a snapshot's incremental chain into a synthetic full snapshot, from the repository alone",
		Args:  cobra.ExactArgs(1),
		RunE: f.withRepo(logger, func(cmd *cobra.Command, args []string, r *repository.Repository, log *slog.Logger) error {
			res, err := backup.Synthesize(cmd.Context(), r, args[0], backup.Options{Logger: log})
			if err != nil {
				return err
			}
			return f.print(cmd.OutOrStdout(), res, func(out io.Writer) {
				fmt.Fprintf(out, "synthetic snapshot %s of %s: %d tables, %d rows, %s stored\n", res.ID[:12], res.Parent[:12], len(res.Tables), res.Rows, bytesText(res.Stored))
			})
		}),
	}
}
