package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	_ "github.com/dataopskit/dataops/airbyte/source/file"     // registers "file"
	_ "github.com/dataopskit/dataops/airbyte/source/postgres" // registers "postgres"
	"github.com/dataopskit/dataops/staging"
	"github.com/dataopskit/dataops/warehouse"
)

func newSyncCmd(logger func(*cobra.Command) *slog.Logger) *cobra.Command {
	var (
		f                          sourceFlags
		target, schema, connection string
		streams                    []string
		layout                     string
		policy                     string
		keepDeleted                bool
	)
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Extract a source's streams and land them in a warehouse's staging area, exactly once",
		Long: `sync discovers the source's streams, configures them as Airbyte would by default
(incremental and deduplicated where the source allows it, full refresh otherwise), reads them
from the state the warehouse last committed, and lands them: every STATE checkpoint is
committed in the same transaction as the rows it covers, so an interrupted sync resumes
where it stopped, losing and duplicating nothing.

Progress goes to stderr: a live line on a terminal, plain lines otherwise.`,
		Example: `  dataops sync --source postgres --config pg.json --target duckdb:warehouse.duckdb --streams public.orders,public.users
  dataops sync --source file --config files.json --target 'postgres://localhost/dw?sslmode=disable' --schema raw`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := logger(cmd)
			src, config, err := f.openWithConfig(log)
			if err != nil {
				return err
			}
			w, err := warehouse.Open(cmd.Context(), target, warehouse.WithLogger(log))
			if err != nil {
				return err
			}
			defer w.Close()
			progress := newProgress(cmd.ErrOrStderr())
			opts := staging.SyncOptions{
				Config:  config,
				Streams: streams,
				Options: staging.Options{
					Schema: schema, Connection: connection, Layout: staging.Layout(layout),
					SchemaPolicy: staging.SchemaPolicy(policy), KeepDeleted: keepDeleted,
					Logger: log, OnProgress: progress.update,
				},
			}
			res, err := staging.Sync(cmd.Context(), src, w, opts)
			progress.done()
			if res != nil {
				printResult(cmd.OutOrStdout(), res)
			}
			return err
		},
	}
	pf := cmd.Flags()
	pf.StringVar(&f.native, "source", "", "name of a native source registered in this binary (postgres, file)")
	pf.StringVar(&f.command, "command", "", "connector command line, e.g. \"python -m source_x\"")
	pf.StringVar(&f.image, "image", "", "connector image, run with docker run --rm -i")
	pf.StringVar(&f.docker, "docker", "docker", "docker executable for --image")
	pf.BoolVar(&f.noValidate, "no-validate", false, "do not validate the config against the spec")
	pf.StringVar(&f.configFile, "config", "", "source config file (JSON)")
	pf.StringVar(&target, "target", "", "warehouse URL, e.g. duckdb:warehouse.duckdb or postgres://…")
	pf.StringSliceVar(&streams, "streams", nil, "streams to sync, comma-separated (default: all)")
	pf.StringVar(&schema, "schema", "", "staging schema (default: each stream's namespace, else staging)")
	pf.StringVar(&connection, "connection", "default", "name under which the sync's state is kept")
	pf.StringVar(&layout, "layout", "direct", "direct (typed tables) or airbyte (raw tables too, as Airbyte destinations v2)")
	pf.StringVar(&policy, "schema-policy", "widen", "widen or fail when a stream's schema needs a wider column")
	pf.BoolVar(&keepDeleted, "keep-deleted", false, "keep rows deleted at the source (CDC), flagged by _ab_cdc_deleted_at")
	_ = cmd.MarkFlagRequired("config")
	_ = cmd.MarkFlagRequired("target")
	return cmd
}

// progress shows the running counts: one rewritten line on a terminal, a
// plain line at most every few seconds otherwise.
type progress struct {
	out      io.Writer
	terminal bool
	last     time.Time
	start    time.Time
	shown    bool
}

func newProgress(out io.Writer) *progress {
	p := &progress{out: out, start: time.Now()}
	if f, ok := out.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.terminal = true
		}
	}
	return p
}

func (p *progress) update(res *staging.Result) {
	every := 5 * time.Second
	if p.terminal {
		every = 200 * time.Millisecond
	}
	if time.Since(p.last) < every {
		return
	}
	p.last = time.Now()
	var parts []string
	var total int64
	for _, s := range res.Streams {
		parts = append(parts, fmt.Sprintf("%s %d", s.Stream.Name, s.Records))
		total += s.Records
	}
	rate := float64(total) / time.Since(p.start).Seconds()
	line := fmt.Sprintf("synced %d records (%.0f/s), %d states committed: %s", total, rate, res.StatesCommitted, strings.Join(parts, ", "))
	if p.terminal {
		fmt.Fprintf(p.out, "\r\033[K%s", line)
		p.shown = true
		return
	}
	fmt.Fprintln(p.out, line)
}

func (p *progress) done() {
	if p.terminal && p.shown {
		fmt.Fprintln(p.out)
	}
}

func printResult(out io.Writer, res *staging.Result) {
	fmt.Fprintf(out, "%-32s %-14s %12s %10s %8s\n", "stream", "mode", "records", "nulled", "commits")
	for _, s := range res.Streams {
		fmt.Fprintf(out, "%-32s %-14s %12d %10d %8d\n", s.Table, s.Mode, s.Records, s.ValuesNulled, s.StatesCommitted)
	}
	fmt.Fprintf(out, "%d states committed in %s\n", res.StatesCommitted, res.Duration.Round(time.Millisecond))
}
