package main

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	"github.com/dataopskit/dataops/transform"
	"github.com/dataopskit/dataops/transform/artifacts"
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

func columnsOf(cols []transform.ColumnInfo) map[string]*artifacts.Column {
	out := make(map[string]*artifacts.Column, len(cols))
	for _, c := range cols {
		out[c.Name] = &artifacts.Column{Name: c.Name, Description: c.Description, Meta: c.Meta, DataType: strOrNil(c.DataType), Quote: c.Quote, Tags: c.Tags}
	}
	return out
}

// viaJSON converts between shapes that agree as JSON (a YAML mapping into a
// typed struct); it reports whether it could.
func viaJSON(from, to any) bool {
	b, err := json.Marshal(from)
	return err == nil && json.Unmarshal(b, to) == nil
}

// nodeConfig is a node's config as manifest.json holds it: every key as
// configured, with the typed ones dbt always writes.
func nodeConfig(n *transform.Node) map[string]any {
	cfg := map[string]any{}
	for k, v := range n.Config.Raw {
		cfg[k] = v
	}
	cfg["enabled"] = true
	if n.Config.Materialized != "" {
		cfg["materialized"] = n.Config.Materialized
	}
	tags := n.Config.Tags
	if tags == nil {
		tags = []string{}
	}
	cfg["tags"] = tags
	if n.ResourceType == transform.ResourceTest {
		sev := n.Config.Severity
		if sev == "" {
			sev = "ERROR"
		}
		cfg["severity"] = sev
	}
	// Keep only values the schema accepts for the keys it types.
	for _, k := range []string{"alias", "schema", "database"} {
		if v, ok := cfg[k]; ok {
			if _, isStr := v.(string); !isStr && v != nil {
				delete(cfg, k)
			}
		}
	}
	return cfg
}

// buildManifest converts a loaded project into manifest.json (v12).
func buildManifest(p *transform.Project, invocationID string, started time.Time) *artifacts.Manifest {
	md := artifacts.NewMetadata(artifacts.ManifestV12, invocationID)
	md.InvocationStartedAt = artifacts.Str(artifacts.Timestamp(started))
	m := artifacts.NewManifest(md)
	sum := md5.Sum([]byte(p.Name))
	m.Metadata.ProjectName = artifacts.Str(p.Name)
	m.Metadata.ProjectID = artifacts.Str(hex.EncodeToString(sum[:]))
	m.Metadata.AdapterType = strOrNil(p.Target.Type)
	m.Metadata.RunStartedAt = artifacts.Str(artifacts.Timestamp(started))
	created := float64(started.UnixNano()) / 1e9
	for id, n := range p.Nodes {
		an := &artifacts.Node{
			Database: strOrNil(n.Database), Schema: n.Schema, Name: n.Name, ResourceType: string(n.ResourceType),
			PackageName: n.Package, Path: n.Path, OriginalFilePath: n.OriginalFilePath, UniqueID: id, FQN: n.FQN,
			Alias: n.Alias, Checksum: artifacts.FileHash{Name: "sha256", Checksum: n.Checksum}, Config: nodeConfig(n),
			Tags: n.Tags, Description: n.Description, Columns: columnsOf(n.Columns), Meta: n.Meta,
			Docs: artifacts.Docs{Show: true}, PatchPath: strOrNil(n.PatchPath), CreatedAt: created, RawCode: n.RawCode,
			Language:  n.Language,
			DependsOn: artifacts.DependsOn{Nodes: n.DependsOn, Macros: n.DependsOnMacros},
		}
		if n.Alias == "" {
			an.Alias = n.Name
		}
		if g, ok := n.Config.Raw["group"].(string); ok && g != "" {
			an.Group = &g
		}
		switch n.ResourceType {
		case transform.ResourceModel, transform.ResourceSeed, transform.ResourceSnapshot:
			if n.Config.Materialized != "ephemeral" {
				an.RelationName = artifacts.Str(quoteRel(n.Relation()))
			}
		}
		an.Refs, an.Sources = refArgs(n.Refs), sourcePairs(n.SourceRefs)
		if n.ResourceType == transform.ResourceSeed {
			an.RootPath = artifacts.Str(p.Dir)
		}
		if n.ResourceType == transform.ResourceTest && n.Test != nil {
			an.TestMetadata = &artifacts.TestMetadata{Name: n.Test.Name, Kwargs: n.Test.Kwargs, Namespace: strOrNil(n.Test.Namespace)}
			an.ColumnName = strOrNil(n.ColumnName)
			an.AttachedNode = strOrNil(n.AttachedNode)
			if n.AttachedNode != "" {
				parts := strings.Split(n.AttachedNode, ".")
				if parts[0] == "source" && len(parts) >= 4 {
					an.FileKeyName = artifacts.Str("sources." + parts[2])
				} else {
					an.FileKeyName = artifacts.Str("models." + parts[len(parts)-1])
				}
			}
		}
		m.Nodes[id] = an
	}
	for id, s := range p.Sources {
		as := &artifacts.Source{
			Database: strOrNil(s.Database), Schema: s.Schema, Name: s.Name, ResourceType: "source", PackageName: s.Package,
			Path: s.Path, OriginalFilePath: s.OriginalFilePath, UniqueID: id, FQN: s.FQN, SourceName: s.SourceName,
			Loader: s.Loader, Identifier: s.Identifier, LoadedAtField: strOrNil(s.LoadedAtField), Description: s.Description,
			Columns: columnsOf(s.Columns), Meta: s.Meta, Tags: s.Tags, Config: map[string]any{"enabled": s.Enabled},
			RelationName: artifacts.Str(quoteRel(s.Relation())), CreatedAt: created,
		}
		if as.Identifier == "" {
			as.Identifier = s.Name
		}
		if len(s.Freshness) > 0 {
			var f artifacts.Freshness
			if viaJSON(s.Freshness, &f) {
				as.Freshness = &f
			}
		}
		if len(s.Quoting) > 0 {
			_ = viaJSON(s.Quoting, &as.Quoting)
		}
		m.Sources[id] = as
	}
	for id, mac := range p.Macros {
		am := &artifacts.Macro{Name: mac.Name, ResourceType: "macro", PackageName: mac.Package, Path: mac.Path,
			OriginalFilePath: mac.OriginalFilePath, UniqueID: id, MacroSQL: mac.Source, Description: mac.Description,
			Docs: artifacts.Docs{Show: true}, CreatedAt: created}
		for _, a := range mac.Arguments {
			am.Arguments = append(am.Arguments, map[string]any{"name": a, "type": nil, "description": ""})
		}
		m.Macros[id] = am
	}
	for id, d := range p.Docs {
		m.Docs[id] = &artifacts.Doc{Name: d.Name, ResourceType: "doc", PackageName: d.Package, Path: d.Path,
			OriginalFilePath: d.OriginalFilePath, UniqueID: id, BlockContents: d.Contents}
	}
	for id, e := range p.Exposures {
		ae := &artifacts.Exposure{Name: e.Name, ResourceType: "exposure", PackageName: e.Package, Path: e.Path,
			OriginalFilePath: e.OriginalFilePath, UniqueID: id, FQN: e.FQN, Type: e.Type, Description: e.Description,
			Label: strOrNil(e.Label), Maturity: strOrNil(e.Maturity), URL: strOrNil(e.URL), Meta: e.Meta, Tags: e.Tags,
			DependsOn: artifacts.DependsOn{Nodes: e.DependsOn}, CreatedAt: created}
		_ = viaJSON(e.Owner, &ae.Owner)
		ae.Refs, ae.Sources = refArgs(e.Refs), sourcePairs(e.SourceRefs)
		m.Exposures[id] = ae
	}
	m.BuildMaps()
	return m
}

// addCompiled records the compiled SQL of a run's nodes in the manifest.
func addCompiled(m *artifacts.Manifest, res *transform.RunResults) {
	for _, r := range res.Results {
		n, ok := m.Nodes[r.UniqueID]
		if !ok || r.CompiledCode == "" {
			continue
		}
		n.Compiled = true
		n.CompiledCode = artifacts.Str(r.CompiledCode)
		n.ExtraCTEsInjected = true
	}
}

// buildRunResults converts a run's results into run_results.json (v6).
func buildRunResults(res *transform.RunResults, opts transform.RunOptions, started time.Time) *artifacts.RunResults {
	md := artifacts.NewMetadata(artifacts.RunResultsV6, res.InvocationID)
	md.InvocationStartedAt = artifacts.Str(artifacts.Timestamp(started))
	rr := artifacts.NewRunResults(md)
	rr.ElapsedTime = res.Elapsed.Seconds()
	rr.Args = map[string]any{
		"which": string(res.Command), "select": nonNil(opts.Select), "exclude": nonNil(opts.Exclude),
		"selector": opts.Selector, "threads": opts.Threads, "full_refresh": opts.FullRefresh, "fail_fast": opts.FailFast,
		"indirect_selection": string(opts.Indirect),
	}
	for _, r := range res.Results {
		out := artifacts.RunResult{
			Status: string(r.Status), ThreadID: r.ThreadID, ExecutionTime: r.ExecutionTime.Seconds(),
			AdapterResponse: map[string]any{}, UniqueID: r.UniqueID, RelationName: strOrNil(r.RelationName),
		}
		if out.ThreadID == "" {
			out.ThreadID = "main"
		}
		for _, t := range r.Timing {
			out.Timing = append(out.Timing, artifacts.NewTiming(t.Name, t.StartedAt, t.CompletedAt))
		}
		if r.Message != "" {
			out.Message = artifacts.Str(r.Message)
			out.AdapterResponse["_message"] = r.Message
		}
		if r.RowsAffected >= 0 {
			out.AdapterResponse["rows_affected"] = r.RowsAffected
		}
		if r.Failures != nil {
			f := int(*r.Failures)
			out.Failures = &f
		}
		compiled := r.CompiledCode != ""
		out.Compiled = &compiled
		out.CompiledCode = strOrNil(r.CompiledCode)
		rr.Results = append(rr.Results, out)
	}
	return rr
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// refArgs converts ref() arguments (name, or package and name).
func refArgs(refs [][]string) []artifacts.RefArgs {
	var out []artifacts.RefArgs
	for _, r := range refs {
		switch len(r) {
		case 1:
			out = append(out, artifacts.RefArgs{Name: r[0]})
		case 2:
			out = append(out, artifacts.RefArgs{Package: artifacts.Str(r[0]), Name: r[1]})
		}
	}
	return out
}

// sourcePairs converts source() arguments (source name, table name).
func sourcePairs(srcs [][2]string) [][]string {
	var out [][]string
	for _, s := range srcs {
		out = append(out, []string{s[0], s[1]})
	}
	return out
}
