package transform

import (
	"context"
	"fmt"
	"strings"

	"github.com/dataopskit/dataops/warehouse"
)

// RunOperation calls a macro as dbt's run-operation does: name is a macro
// of the project, a package or dbt's built-ins ("package.name" picks one
// package), called with args as keyword arguments and execute=true, so its
// run_query and statement calls run on w. It returns what the macro
// returns: its rendered text, or the value it passed to return().
func (p *Project) RunOperation(ctx context.Context, w *warehouse.Warehouse, name string, args map[string]any) (any, error) {
	pkg, mname := "", name
	if i := strings.IndexByte(name, '.'); i >= 0 {
		pkg, mname = name[:i], name[i+1:]
	}
	order := []string{pkg}
	if pkg == "" {
		order = []string{p.Name}
		for _, pk := range p.Packages[1:] {
			order = append(order, pk.Name)
		}
		order = append(order, "dbt")
	}
	for _, pk := range order {
		m, ok := p.state.macros[pk][mname]
		if !ok {
			continue
		}
		st := &renderState{p: p, results: map[string]any{}, w: w}
		v, err := m.Call(context.WithValue(ctx, stateKey{}, st), p.jenv, nil, args)
		if err != nil {
			return nil, fmt.Errorf("run-operation %s: %w", name, err)
		}
		return v, nil
	}
	var names []string
	for _, pk := range order {
		for n := range p.state.macros[pk] {
			names = append(names, n)
		}
	}
	msg := fmt.Sprintf("run-operation: no macro named %q", name)
	if s := closest(mname, names); len(s) > 0 {
		msg += "; did you mean " + strings.Join(quoteAll(s), " or ") + "?"
	}
	return nil, &CompilerError{Msg: msg}
}

// CompileInline compiles SQL with Jinja as a node of the root project
// would be compiled (dbt's compile --inline and show --inline): refs and
// sources resolve to relations (ephemeral models as CTEs), and with w
// introspective macros query it. Nothing is written.
func (p *Project) CompileInline(ctx context.Context, w *warehouse.Warehouse, sql string) (string, error) {
	n := &Node{
		UniqueID: "sql_operation." + p.Name + ".inline_query", ResourceType: "sql_operation", Package: p.Name,
		Name: "inline_query", Path: "inline_query.sql", OriginalFilePath: "inline_query.sql",
		FQN: []string{p.Name, "inline_query"}, RawCode: sql, Language: "sql", Line: 1, project: p,
		Config: typedConfig(map[string]any{"enabled": true, "materialized": "view"}),
	}
	t, err := p.jenv.Compile("inline", sql)
	if err != nil {
		return "", err
	}
	n.tmpl = t
	n.Schema, n.Alias, n.Database = p.Target.Schema, n.Name, p.Target.Database
	if err := p.parseNode(ctx, n); err != nil {
		return "", err
	}
	for _, r := range n.Refs {
		if _, err := p.resolveRef(n, refPkg(r), r[len(r)-1]); err != nil {
			return "", err
		}
	}
	for _, s := range n.SourceRefs {
		if _, err := p.resolveSource(n, s[0], s[1]); err != nil {
			return "", err
		}
	}
	c := p.newCompiler(w, "-", false)
	return c.render(ctx, n)
}
