package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/dataopskit/dataops/internal/version"
	"github.com/dataopskit/dataops/warehouse"
)

// newDBTDebugCmd is dbt's debug: check that the project and its profile
// load, then connect to the target. `dataops debug` belongs to root.go (it
// takes a warehouse URL); `dataops debug --project-dir …` is routed here by
// dbtArgs.
func newDBTDebugCmd(logger func(*cobra.Command) *slog.Logger) *cobra.Command {
	var f dbtFlags
	cmd := &cobra.Command{
		Use:    "dbt-debug",
		Short:  "Check a dbt project, its profile and the connection to its target (dbt's debug)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return dbtFinish(cmd, dbtDebug(cmd, &f, logger(cmd)))
		},
	}
	f.register(cmd, false)
	return cmd
}

func dbtDebug(cmd *cobra.Command, f *dbtFlags, log *slog.Logger) error {
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "dataops version: %s\n", version.String())
	fmt.Fprintf(out, "go version: %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	dir := f.projectDir
	if dir == "" {
		dir = "."
	}
	abs, _ := filepath.Abs(dir)
	profiles := f.profilesDir
	if profiles == "" {
		profiles = os.Getenv("DBT_PROFILES_DIR")
	}
	if profiles != "" {
		fmt.Fprintf(out, "Using profiles dir at %s\n", profiles)
	}
	fmt.Fprintf(out, "Using dbt_project.yml file at %s\n", filepath.Join(abs, "dbt_project.yml"))
	fmt.Fprintln(out, "Configuration:")
	saved := cmd.OutOrStdout()
	cmd.SetOut(discardWriter{})
	p, err := f.load(cmd, log)
	cmd.SetOut(saved)
	if err != nil {
		fmt.Fprintln(out, "  profiles.yml file [ERROR invalid]")
		fmt.Fprintln(out, "  dbt_project.yml file [ERROR invalid]")
		fmt.Fprintf(out, "\n%v\n\n1 check failed\n", err)
		return errNodesFailed
	}
	fmt.Fprintln(out, "  profiles.yml file [OK found and valid]")
	fmt.Fprintln(out, "  dbt_project.yml file [OK found and valid]")
	t := p.Target
	fmt.Fprintln(out, "Connection:")
	fmt.Fprintf(out, "  type: %s\n  target: %s\n  database: %s\n  schema: %s\n  url: %s\n", t.Type, t.Name, t.Database, t.Schema, warehouse.RedactURL(t.URL))
	start := time.Now()
	w, err := p.OpenWarehouse(cmd.Context())
	if err == nil {
		_, err = w.Info(cmd.Context())
		w.Close()
	}
	if err != nil {
		fmt.Fprintf(out, "  Connection test: [ERROR]\n\n%v\n\n1 check failed\n", err)
		return errNodesFailed
	}
	fmt.Fprintf(out, "  Connection test: [OK connection ok] (%s)\n\nAll checks passed!\n", time.Since(start).Round(time.Millisecond))
	return nil
}

// discardWriter drops what the project loader prints while debug reports.
type discardWriter struct{}

func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }
