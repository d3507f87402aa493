package transform

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/dataopskit/dataops/transform/artifacts"
)

// Manifest converts the project into dbt's manifest.json (schema v12).
// compiled holds compiled SQL by unique id (from Compile or a Run's
// results); nodes without an entry are written uncompiled.
func (p *Project) Manifest(compiled map[string]string) *artifacts.Manifest {
	md := artifacts.NewMetadata(artifacts.ManifestV12, p.state.invocation)
	m := artifacts.NewManifest(md)
	m.Metadata.ProjectName = artifacts.Str(p.Name)
	m.Metadata.AdapterType = artifacts.Str(p.Target.Type)
	f := false
	m.Metadata.SendAnonymousUsageStats = &f
	// Nodes convert on every core (tens of thousands of them), then go
	// into the map in one pass.
	ids, nodes := make([]string, 0, len(p.Nodes)), make([]*Node, 0, len(p.Nodes))
	for id, n := range p.Nodes {
		if n.Unit != nil {
			m.UnitTests[id] = p.artifactUnitTest(n)
			continue
		}
		ids, nodes = append(ids, id), append(nodes, n)
	}
	converted := make([]*artifacts.Node, len(nodes))
	_ = forEach(context.Background(), len(nodes), func(_ context.Context, i int) error {
		converted[i] = p.artifactNode(nodes[i], compiled)
		return nil
	})
	for i, id := range ids {
		m.Nodes[id] = converted[i]
	}
	for id, s := range p.Sources {
		m.Sources[id] = p.artifactSource(s)
	}
	for id, mac := range p.Macros {
		m.Macros[id] = &artifacts.Macro{
			Name: mac.Name, ResourceType: string(ResourceMacro), PackageName: mac.Package, Path: mac.Path,
			OriginalFilePath: mac.OriginalFilePath, UniqueID: id, MacroSQL: mac.Source,
			Description: mac.Description, Docs: artifacts.Docs{Show: true}, SupportedLangs: nil,
			CreatedAt: float64(p.state.started.Unix()),
		}
		macroPatch(m.Macros[id], mac)
	}
	for id, d := range p.Docs {
		m.Docs[id] = &artifacts.Doc{Name: d.Name, ResourceType: string(ResourceDoc), PackageName: d.Package, Path: d.Path, OriginalFilePath: d.OriginalFilePath, UniqueID: id, BlockContents: d.Contents}
	}
	for id, e := range p.Exposures {
		ex := &artifacts.Exposure{
			Name: e.Name, ResourceType: string(ResourceExposure), PackageName: e.Package, Path: e.Path,
			OriginalFilePath: e.OriginalFilePath, UniqueID: id, FQN: e.FQN, Type: e.Type, Description: e.Description,
			Meta: e.Meta, Tags: e.Tags, Config: map[string]any{"enabled": true}, DependsOn: artifacts.DependsOn{Nodes: e.DependsOn},
			Refs: refArgs(e.Refs), Sources: sourceArgs(e.SourceRefs), CreatedAt: float64(p.state.started.Unix()),
		}
		if e.Label != "" {
			ex.Label = artifacts.Str(e.Label)
		}
		if e.Maturity != "" {
			ex.Maturity = artifacts.Str(e.Maturity)
		}
		if e.URL != "" {
			ex.URL = artifacts.Str(e.URL)
		}
		ex.Owner.Email = e.Owner["email"]
		if name, ok := e.Owner["name"].(string); ok {
			ex.Owner.Name = artifacts.Str(name)
		}
		m.Exposures[id] = ex
	}
	m.BuildMaps()
	return m
}

func refArgs(refs [][]string) []artifacts.RefArgs {
	out := make([]artifacts.RefArgs, 0, len(refs))
	for _, r := range refs {
		a := artifacts.RefArgs{Name: r[len(r)-1]}
		if len(r) == 2 {
			a.Package = artifacts.Str(r[0])
		}
		out = append(out, a)
	}
	return out
}

func sourceArgs(srcs [][2]string) [][]string {
	out := make([][]string, 0, len(srcs))
	for _, s := range srcs {
		out = append(out, []string{s[0], s[1]})
	}
	return out
}

func artifactColumns(cols []ColumnInfo) map[string]*artifacts.Column {
	out := map[string]*artifacts.Column{}
	for _, c := range cols {
		ac := &artifacts.Column{Name: c.Name, Description: c.Description, Meta: c.Meta, Quote: c.Quote, Tags: c.Tags}
		if c.DataType != "" {
			ac.DataType = artifacts.Str(c.DataType)
		}
		out[c.Name] = ac
	}
	return out
}

// manifestConfig is the node's config as dbt writes it: every key, with
// the defaults dbt's schema expects.
func manifestConfig(n *Node) map[string]any {
	cfg := make(map[string]any, len(n.Config.Raw)+8) // no growth for the keys below
	for k, v := range n.Config.Raw {
		cfg[k] = v
	}
	cfg["enabled"] = n.Config.Enabled
	cfg["tags"] = nonNil(n.Config.Tags)
	if _, ok := cfg["meta"]; !ok {
		cfg["meta"] = map[string]any{}
	}
	cfg["pre-hook"] = nonNil(n.Config.PreHook)
	cfg["post-hook"] = nonNil(n.Config.PostHook)
	delete(cfg, "pre_hook")
	delete(cfg, "post_hook")
	if n.Config.Alias != "" {
		cfg["alias"] = n.Config.Alias
	} else {
		cfg["alias"] = nil
	}
	for _, k := range []string{"schema", "database"} {
		if s := asString(cfg[k]); s == "" {
			cfg[k] = nil
		}
	}
	return cfg
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (p *Project) artifactNode(n *Node, compiled map[string]string) *artifacts.Node {
	an := &artifacts.Node{
		Schema: n.Schema, Name: n.Name, ResourceType: string(n.ResourceType), PackageName: n.Package,
		Path: n.Path, OriginalFilePath: n.OriginalFilePath, UniqueID: n.UniqueID, FQN: n.FQN, Alias: n.Alias,
		Checksum: artifacts.FileHash{Name: "sha256", Checksum: n.Checksum}, Config: manifestConfig(n),
		Tags: nonNil(n.Tags), Description: n.Description, Columns: artifactColumns(n.Columns), Meta: n.Meta,
		Docs: nodeDocs(n), UnrenderedConfig: map[string]any{}, CreatedAt: float64(p.state.started.Unix()),
		ConfigCallDict: n.ucfg, RawCode: n.RawCode, Language: "sql",
		DependsOn: artifacts.DependsOn{Nodes: nonNil(n.DependsOn), Macros: nonNil(n.DependsOnMacros)},
		Refs:      refArgs(n.Refs), Sources: sourceArgs(n.SourceRefs),
	}
	if n.Test != nil && n.Checksum == "" {
		an.Checksum = artifacts.FileHash{Name: "none", Checksum: ""}
	}
	if n.Database != "" {
		an.Database = artifacts.Str(n.Database)
	}
	if n.PatchPath != "" {
		an.PatchPath = artifacts.Str(n.PatchPath)
	}
	if an.Meta == nil {
		an.Meta = map[string]any{}
	}
	if an.ConfigCallDict == nil {
		an.ConfigCallDict = map[string]any{}
	}
	switch n.ResourceType {
	case ResourceModel, ResourceSeed, ResourceSnapshot:
		if n.Config.Materialized != "ephemeral" {
			rel := p.nodeRelation(n)
			an.RelationName = artifacts.Str(rel.String())
		}
	}
	if n.ResourceType == ResourceSeed {
		an.RootPath = artifacts.Str(p.Dir)
	}
	if n.ResourceType == ResourceModel {
		an.Access = "protected"
		an.Contract = &artifacts.Contract{}
	}
	if n.Test != nil {
		ns := (*string)(nil)
		if n.Test.Namespace != "" {
			ns = artifacts.Str(n.Test.Namespace)
		}
		an.TestMetadata = &artifacts.TestMetadata{Name: n.Test.Name, Kwargs: n.Test.Kwargs, Namespace: ns}
		if n.ColumnName != "" {
			an.ColumnName = artifacts.Str(n.ColumnName)
		}
		if n.AttachedNode != "" {
			an.AttachedNode = artifacts.Str(n.AttachedNode)
		}
		an.FileKeyName = artifacts.Str(fileKey(n))
	}
	if sql, ok := compiled[n.UniqueID]; ok {
		an.Compiled = true
		an.CompiledCode = artifacts.Str(sql)
		an.CompiledPath = artifacts.Str(filepath.ToSlash(filepath.Join(p.TargetPath, "compiled", n.Package, compiledRel(n))))
		an.ExtraCTEsInjected = true
	}
	return an
}

func fileKey(n *Node) string {
	switch {
	case n.AttachedNode == "":
		return ""
	case len(n.AttachedNode) > 7 && n.AttachedNode[:7] == "source.":
		return "sources." + n.AttachedNode[len("source."+n.Package+"."):]
	}
	if an := n.project.Nodes[n.AttachedNode]; an != nil {
		return string(an.ResourceType) + "s." + an.Name
	}
	return ""
}

func compiledRel(n *Node) string {
	if n.Test != nil {
		return filepath.Join(n.OriginalFilePath, n.Path)
	}
	return n.OriginalFilePath
}

func (p *Project) artifactSource(s *Source) *artifacts.Source {
	as := &artifacts.Source{
		Schema: s.Schema, Name: s.Name, ResourceType: string(ResourceSource), PackageName: s.Package,
		Path: s.Path, OriginalFilePath: s.OriginalFilePath, UniqueID: s.UniqueID, FQN: s.FQN,
		SourceName: s.SourceName, Loader: s.Loader, Identifier: s.Identifier, Description: s.Description, SourceDescription: s.SourceDesc,
		Columns: artifactColumns(s.Columns), Meta: s.Meta, SourceMeta: map[string]any{}, Tags: nonNil(s.Tags),
		Config: map[string]any{"enabled": s.Enabled}, UnrenderedConfig: map[string]any{},
		CreatedAt: float64(p.state.started.Unix()),
	}
	if as.Meta == nil {
		as.Meta = map[string]any{}
	}
	if s.Database != "" {
		as.Database = artifacts.Str(s.Database)
	}
	if s.LoadedAtField != "" {
		as.LoadedAtField = artifacts.Str(s.LoadedAtField)
	}
	as.RelationName = artifacts.Str(p.relation(s.Database, s.Schema, s.Identifier, "table").String())
	return as
}

// RunResultsArtifact converts results into dbt's run_results.json (v6).
func (p *Project) RunResultsArtifact(r *RunResults) *artifacts.RunResults {
	out := artifacts.NewRunResults(artifacts.NewMetadata(artifacts.RunResultsV6, r.InvocationID))
	out.ElapsedTime = r.Elapsed.Seconds()
	out.Args = map[string]any{"which": string(r.Command), "invocation_command": "dataops " + string(r.Command)}
	// Results in the run's order, made at their number (30,000 on a
	// 10k-model compile); an adapter response without rows is an empty
	// map made only when written (encoded as {} either way).
	out.Results = make([]artifacts.RunResult, 0, len(r.Results))
	for i := range r.Results {
		nr := &r.Results[i]
		ar := artifacts.RunResult{
			Status: string(nr.Status), ThreadID: nr.ThreadID, ExecutionTime: nr.ExecutionTime.Seconds(),
			UniqueID: nr.UniqueID,
		}
		if ar.ThreadID == "" {
			ar.ThreadID = "main"
		}
		if len(nr.Timing) > 0 {
			ar.Timing = make([]artifacts.Timing, 0, len(nr.Timing))
		}
		for _, t := range nr.Timing {
			ar.Timing = append(ar.Timing, artifacts.NewTiming(t.Name, t.StartedAt, t.CompletedAt))
		}
		if nr.RowsAffected >= 0 {
			ar.AdapterResponse = map[string]any{"rows_affected": nr.RowsAffected, "_message": nr.Message}
		}
		msg := nr.Message
		ar.Message = &msg
		if nr.Failures != nil {
			f := int(*nr.Failures)
			ar.Failures = &f
		}
		if nr.CompiledCode != "" {
			t := true
			ar.Compiled = &t
			ar.CompiledCode = artifacts.Str(nr.CompiledCode)
		}
		if nr.RelationName != "" {
			ar.RelationName = artifacts.Str(nr.RelationName)
		}
		out.Results = append(out.Results, ar)
	}
	return out
}

// writeArtifacts writes target/manifest.json and target/run_results.json.
func (p *Project) writeArtifacts(dir string, r *RunResults) error {
	compiled := map[string]string{}
	for _, nr := range r.Results {
		if nr.CompiledCode != "" {
			compiled[nr.UniqueID] = nr.CompiledCode
		}
	}
	if err := artifacts.WriteFile(filepath.Join(dir, "manifest.json"), p.Manifest(compiled)); err != nil {
		return fmt.Errorf("write manifest.json: %w", err)
	}
	if err := artifacts.WriteFile(filepath.Join(dir, "run_results.json"), p.RunResultsArtifact(r)); err != nil {
		return fmt.Errorf("write run_results.json: %w", err)
	}
	return nil
}

func fixtureRows(f UnitTestFixture) (any, string) {
	if f.CSV != "" {
		return f.CSV, "csv"
	}
	if f.SQL != "" {
		return f.SQL, "sql"
	}
	rows := make([]any, 0, len(f.Rows))
	for _, r := range f.Rows {
		rows = append(rows, r)
	}
	return rows, "dict"
}

func (p *Project) artifactUnitTest(n *Node) *artifacts.UnitTest {
	u := &artifacts.UnitTest{
		Model: n.Unit.Model, Name: n.Name, ResourceType: string(ResourceUnitTest), PackageName: n.Package,
		Path: n.Path, OriginalFilePath: n.OriginalFilePath, UniqueID: n.UniqueID, FQN: n.FQN,
		Description: n.Description, Overrides: map[string]any{}, Config: map[string]any{"tags": nonNil(n.Tags), "meta": map[string]any{}, "enabled": true},
		DependsOn: artifacts.DependsOn{Nodes: nonNil(n.DependsOn), Macros: []string{}}, CreatedAt: float64(p.state.started.Unix()),
	}
	for _, g := range n.Unit.Given {
		rows, format := fixtureRows(g)
		u.Given = append(u.Given, artifacts.UnitTestInput{Input: g.Input, Rows: rows, Format: format})
	}
	rows, format := fixtureRows(n.Unit.Expect)
	u.Expect = artifacts.UnitTestOutput{Rows: rows, Format: format}
	return u
}
