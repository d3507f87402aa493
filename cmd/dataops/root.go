package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dataopskit/dataops/internal/version"
	"github.com/dataopskit/dataops/warehouse"
	_ "github.com/dataopskit/dataops/warehouse/duckdb"
	_ "github.com/dataopskit/dataops/warehouse/postgres"
)

// envWarehouseURL names the environment variable that holds the default
// warehouse URL.
const envWarehouseURL = "DATAOPS_WAREHOUSE_URL"

func newRootCmd() *cobra.Command {
	var verbose bool
	root := &cobra.Command{
		Use:           "dataops",
		Short:         "Extract, stage, transform and protect data — Airbyte, dbt and backups in one Go binary",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().BoolVarP(&verbose, "verbose", "v", false, "log debug messages to stderr")
	logger := func(cmd *cobra.Command) *slog.Logger {
		level := slog.LevelWarn
		if verbose {
			level = slog.LevelDebug
		}
		return slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
	}
	root.AddCommand(newVersionCmd(), newDebugCmd(logger))
	root.AddCommand(newAirbyteCmd(logger))
	root.AddCommand(newSourceCmd(logger))
	root.AddCommand(newSyncCmd(logger))
	for _, f := range extraCommands {
		root.AddCommand(f(logger))
	}
	return root
}

// extraCommands holds constructors of command groups that live in their own
// files (backup, the dbt verbs, …); each such file appends to it from an init
// function, so adding a group never touches this file.
var extraCommands []func(logger func(*cobra.Command) *slog.Logger) *cobra.Command

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of dataops and of the engines built in",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "dataops %s\n", version.String())
			fmt.Fprintf(out, "go      %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
			fmt.Fprintf(out, "drivers %s\n", strings.Join(warehouse.Schemes(), ", "))
			return nil
		},
	}
}

func newDebugCmd(logger func(*cobra.Command) *slog.Logger) *cobra.Command {
	var rawURL string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "debug",
		Short: "Connect to a warehouse and report its engine, version, database and schema",
		Long: `debug connects to a warehouse, as dbt debug does, and reports what it found.
The URL comes from --url, else $` + envWarehouseURL + `, else an in-memory DuckDB.
Examples of URLs:
  duckdb:warehouse.duckdb            a DuckDB file (created if missing)
  duckdb:                            an in-memory DuckDB
  postgres://user@host:5432/db?sslmode=disable&schema=analytics
Passwords are never printed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if rawURL == "" {
				rawURL = os.Getenv(envWarehouseURL)
			}
			if rawURL == "" {
				rawURL = "duckdb:"
			}
			return runDebug(cmd, cmd.OutOrStdout(), rawURL, timeout, logger(cmd))
		},
	}
	cmd.Flags().StringVar(&rawURL, "url", "", "warehouse URL (default $"+envWarehouseURL+", else in-memory DuckDB)")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "give up connecting after this long")
	return cmd
}

func runDebug(cmd *cobra.Command, out io.Writer, rawURL string, timeout time.Duration, log *slog.Logger) error {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	fmt.Fprintf(out, "dataops %s\n", version.String())
	fmt.Fprintf(out, "  url:      %s\n", warehouse.RedactURL(rawURL))
	start := time.Now()
	w, err := warehouse.Open(ctx, rawURL, warehouse.WithLogger(log))
	if err != nil {
		fmt.Fprintln(out, "Connection test: [ERROR]")
		return err
	}
	defer w.Close()
	info, err := w.Info(ctx)
	if err != nil {
		fmt.Fprintln(out, "Connection test: [ERROR]")
		return fmt.Errorf("%s: %w", w, err)
	}
	fmt.Fprintf(out, "  engine:   %s %s\n", info.Engine, info.Version)
	fmt.Fprintf(out, "  database: %s\n", info.Database)
	fmt.Fprintf(out, "  schema:   %s\n", info.Schema)
	fmt.Fprintf(out, "  capabilities: %s\n", capabilityList(w.Capabilities()))
	fmt.Fprintf(out, "Connection test: [OK connection ok] (%s)\n", time.Since(start).Round(time.Millisecond))
	return nil
}

func capabilityList(c warehouse.Capabilities) string {
	var s []string
	for _, f := range []struct {
		on   bool
		name string
	}{
		{c.TransactionalDDL, "transactional-ddl"},
		{c.Merge, "merge"},
		{c.Clone, "clone"},
		{c.TimeTravel, "time-travel"},
		{c.ChangeStreams, "change-streams"},
		{c.MultipleDatabases, "multiple-databases"},
	} {
		if f.on {
			s = append(s, f.name)
		}
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
