package main

import (
	"encoding/json"
	"path/filepath"
	"strings"

	"github.com/dataopskit/dataops/transform"
	"github.com/dataopskit/dataops/transform/artifacts"
	"github.com/dataopskit/dataops/transform/selector"
	"github.com/dataopskit/dataops/warehouse"
)

// quoteRel renders a relation as dbt's relation_name: every part
// double-quoted (the quoting of DuckDB and PostgreSQL), empty parts left
// out.
func quoteRel(r warehouse.Relation) string {
	var parts []string
	for _, p := range []string{r.Database, r.Schema, r.Name} {
		if p != "" {
			parts = append(parts, warehouse.QuoteWith('"', p))
		}
	}
	return strings.Join(parts, ".")
}

func strOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// viaJSON converts between shapes that agree as JSON (a YAML mapping into a
// typed struct); it reports whether it could.
func viaJSON(from, to any) bool {
	b, err := json.Marshal(from)
	return err == nil && json.Unmarshal(b, to) == nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// compiledOf collects the compiled SQL of a run's results by unique id.
func compiledOf(res *transform.RunResults) map[string]string {
	if res == nil {
		return map[string]string{}
	}
	out := make(map[string]string, len(res.Results))
	for _, r := range res.Results {
		if r.CompiledCode != "" {
			out[r.UniqueID] = r.CompiledCode
		}
	}
	return out
}

// manifest is the project's manifest.json (package transform converts the
// project), with selectors.yml's selectors recorded as dbt records them.
func (p *project) manifest(res *transform.RunResults) *artifacts.Manifest {
	m := p.Manifest(compiledOf(res))
	if sels, err := selector.LoadSelectors(p.Dir, selector.SelectorsOptions{}); err == nil {
		for _, d := range sels.List() {
			m.Selectors[d.Name] = map[string]any{"name": d.Name, "description": d.Description, "default": d.Default, "definition": d.Definition.String()}
		}
	}
	return m
}

// parsedManifest returns the manifest of the project as loaded
// (uncompiled), made once.
func (p *project) parsedManifest() *artifacts.Manifest {
	if p.parsed == nil {
		p.parsed = p.manifest(nil)
	}
	return p.parsed
}

// writeManifest writes target/manifest.json, with the compiled SQL of a
// run's results when there are any.
func (p *project) writeManifest(res *transform.RunResults) error {
	var m *artifacts.Manifest
	if res == nil {
		m = p.parsedManifest()
	} else {
		m = p.manifest(res)
	}
	if err := artifacts.WriteFile(filepath.Join(p.targetDir, "manifest.json"), m); err != nil {
		return invocationError{err: err}
	}
	return nil
}

// writeRunResults writes target/run_results.json with the invocation's
// flags in args, which retry reads back.
func (p *project) writeRunResults(res *transform.RunResults, opts transform.RunOptions) error {
	rr := p.RunResultsArtifact(res)
	if rr.Args == nil {
		rr.Args = map[string]any{}
	}
	for k, v := range map[string]any{
		"which": string(res.Command), "select": nonNil(opts.Select), "exclude": nonNil(opts.Exclude),
		"selector": opts.Selector, "threads": opts.Threads, "full_refresh": opts.FullRefresh, "fail_fast": opts.FailFast,
		"indirect_selection": string(opts.Indirect),
	} {
		rr.Args[k] = v
	}
	if err := artifacts.WriteFile(filepath.Join(p.targetDir, "run_results.json"), rr); err != nil {
		return invocationError{err: err}
	}
	return nil
}
