package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/dataopskit/dataops/transform"
	"github.com/dataopskit/dataops/transform/artifacts"
	"github.com/dataopskit/dataops/warehouse"
)

// newDBTFreshnessCmd is dbt's `source freshness`. The `source` command
// belongs to the Airbyte group (source.go), so the verb is spelled
// `dataops source-freshness` (alias `freshness`).
func newDBTFreshnessCmd(logger func(*cobra.Command) *slog.Logger) *cobra.Command {
	var f dbtFlags
	var output string
	cmd := &cobra.Command{
		Use:     "source-freshness",
		Aliases: []string{"freshness"},
		Short:   "Check how recently the project's sources were loaded (dbt's source freshness)",
		Long: `source-freshness queries max(loaded_at_field) of every selected source table that
has a freshness: block, compares its age with warn_after and error_after, prints one
line per source and writes target/sources.json. Exit code 1 when a source is stale
past error_after or its query fails.`,
		Example: "  dataops source-freshness --select source:raw",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return dbtFinish(cmd, freshness(cmd, &f, output, logger(cmd)))
		},
	}
	f.register(cmd, true)
	cmd.Flags().StringVarP(&output, "output", "o", "", "where to write sources.json (default: target/sources.json)")
	return cmd
}

func periodDuration(p *artifacts.Period) (time.Duration, bool) {
	if p == nil || p.Count == nil || p.Period == nil || *p.Count <= 0 {
		return 0, false
	}
	unit := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}[*p.Period]
	if unit == 0 {
		return 0, false
	}
	return time.Duration(*p.Count) * unit, true
}

func freshness(cmd *cobra.Command, f *dbtFlags, output string, log *slog.Logger) error {
	ctx := cmd.Context()
	p, err := f.load(cmd, log)
	if err != nil {
		return err
	}
	ids, err := p.selectIDs([]string{"source"})
	if err != nil {
		return err
	}
	type check struct {
		src      *transform.Source
		criteria artifacts.Freshness
	}
	var checks []check
	for _, id := range ids {
		s := p.Sources[id]
		if s == nil || s.LoadedAtField == "" || len(s.Freshness) == 0 {
			continue
		}
		var c artifacts.Freshness
		if !viaJSON(s.Freshness, &c) {
			return invocationError{err: fmt.Errorf("%s (%s): freshness: not a mapping of warn_after / error_after", id, s.OriginalFilePath)}
		}
		_, warn := periodDuration(c.WarnAfter)
		_, fail := periodDuration(c.ErrorAfter)
		if warn || fail {
			checks = append(checks, check{s, c})
		}
	}
	w, err := p.open(ctx, log)
	if err != nil {
		return err
	}
	defer w.Close()
	md := artifacts.NewMetadata(artifacts.SourcesV3, p.invocID)
	md.InvocationStartedAt = artifacts.Str(artifacts.Timestamp(p.started))
	out := artifacts.NewSources(md)
	start := time.Now()
	failed := false
	counts := map[string]int{}
	for i, c := range checks {
		name := "freshness of " + c.src.SourceName + "." + c.src.Name
		p.console.emit("info", "LogStartLine", fancyLine("START "+name, "RUN", i+1, len(checks), nil), nil)
		r := checkFreshness(ctx, w, c.src, c.criteria)
		elapsed := time.Duration(r.ExecutionTime * float64(time.Second))
		label, level := "PASS", "info"
		switch r.Status {
		case artifacts.StatusWarn:
			label, level = "WARN", "warn"
		case artifacts.StatusError:
			label, level, failed = "ERROR STALE", "error", true
		case artifacts.StatusRuntimeError:
			label, level, failed = "ERROR", "error", true
		}
		counts[r.Status]++
		p.console.emit(level, "LogFreshnessResult", fancyLine(label+" "+name, label, i+1, len(checks), &elapsed), map[string]any{"unique_id": r.UniqueID, "status": r.Status})
		if r.Status == artifacts.StatusRuntimeError {
			p.console.errorf("  %s", r.Error)
		}
		out.Results = append(out.Results, r)
	}
	out.ElapsedTime = time.Since(start).Seconds()
	if output == "" {
		output = filepath.Join(p.targetDir, "sources.json")
	}
	if err := artifacts.WriteFile(output, out); err != nil {
		return invocationError{err: err}
	}
	p.console.info("")
	p.console.info("Done. PASS=%d WARN=%d ERROR=%d RUNTIME_ERROR=%d TOTAL=%d", counts[artifacts.StatusPass], counts[artifacts.StatusWarn], counts[artifacts.StatusError], counts[artifacts.StatusRuntimeError], len(out.Results))
	if failed {
		return errNodesFailed
	}
	return nil
}

// checkFreshness queries one source's most recent load time and grades its
// age against the criteria. loaded_at_field and filter are SQL expressions
// from the project, as in dbt; the relation is quoted by the dialect.
func checkFreshness(ctx context.Context, w *warehouse.Warehouse, s *transform.Source, c artifacts.Freshness) artifacts.FreshnessResult {
	start := time.Now()
	r := artifacts.FreshnessResult{UniqueID: s.UniqueID, Criteria: c, ThreadID: "Thread-1", AdapterResponse: map[string]any{}}
	q := "select max(" + s.LoadedAtField + ") as max_loaded_at, current_timestamp as snapshotted_at from " + w.Dialect().QuoteRelation(s.Relation())
	if c.Filter != nil && *c.Filter != "" {
		q += " where " + *c.Filter
	}
	var maxLoaded, snapshotted time.Time
	var got bool
	for rec, err := range w.Rows(ctx, q) {
		if err != nil {
			r.Status, r.Error = artifacts.StatusRuntimeError, fmt.Sprintf("%s (%s): %v", s.UniqueID, s.OriginalFilePath, err)
			return r
		}
		a, aok := rec.Values[0].(time.Time)
		b, bok := rec.Values[1].(time.Time)
		if !aok || !bok {
			r.Status = artifacts.StatusRuntimeError
			r.Error = fmt.Sprintf("%s: max(%s) is %v, not a timestamp (no rows loaded?)", s.UniqueID, s.LoadedAtField, rec.Values[0])
			return r
		}
		maxLoaded, snapshotted, got = a, b, true
	}
	if !got {
		r.Status, r.Error = artifacts.StatusRuntimeError, s.UniqueID+": the freshness query returned no row"
		return r
	}
	end := time.Now()
	age := snapshotted.Sub(maxLoaded)
	r.MaxLoadedAt = artifacts.Timestamp(maxLoaded)
	r.SnapshottedAt = artifacts.Timestamp(snapshotted)
	r.MaxLoadedAtTimeAgoInS = age.Seconds()
	r.Timing = []artifacts.Timing{artifacts.NewTiming("compile", start, start), artifacts.NewTiming("execute", start, end)}
	r.ExecutionTime = end.Sub(start).Seconds()
	r.Status = artifacts.StatusPass
	if d, ok := periodDuration(c.ErrorAfter); ok && age > d {
		r.Status = artifacts.StatusError
	} else if d, ok := periodDuration(c.WarnAfter); ok && age > d {
		r.Status = artifacts.StatusWarn
	}
	return r
}
