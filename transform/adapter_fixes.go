package transform

import (
	"context"
	"fmt"
	"strings"

	"github.com/dataopskit/dataops/transform/artifacts"
	"github.com/dataopskit/dataops/transform/jinja"
	"github.com/dataopskit/dataops/warehouse"
)

// withAdapterMethods adds to the Jinja adapter the methods of dbt's adapter
// that change relations, which projects call from models and macros:
// create_schema and drop_schema (of a relation's schema, drop cascading as
// dbt's does), drop_relation, rename_relation (within the schema) and
// truncate_relation. In the parse render, and when no warehouse is open,
// they do nothing, as dbt's do when execute is false.
func (p *Project) withAdapterMethods(a funcObject) funcObject {
	method := func(name string, keys []string, fn func(ctx context.Context, w *warehouse.Warehouse, rels []warehouse.Relation) error) {
		a[name] = jinja.ContextFunc(func(ctx context.Context, args []any, kw map[string]any) (any, error) {
			st := stateOf(ctx)
			if st == nil || st.parse || st.w == nil {
				return "", nil
			}
			rels := make([]warehouse.Relation, len(keys))
			for i, k := range keys {
				v, ok := kw[k]
				if i < len(args) {
					v, ok = args[i], true
				}
				r, isRel := v.(Relation)
				if !ok || !isRel {
					return nil, &CompilerError{Msg: fmt.Sprintf("adapter.%s: argument %s must be a relation, got %T", name, k, v)}
				}
				rels[i] = p.warehouseRelation(r)
			}
			if err := fn(ctx, st.w, rels); err != nil {
				return nil, fmt.Errorf("adapter.%s: %w", name, err)
			}
			return "", nil
		})
	}
	method("create_schema", []string{"relation"}, func(ctx context.Context, w *warehouse.Warehouse, r []warehouse.Relation) error {
		return w.CreateSchema(ctx, r[0].Schema)
	})
	method("drop_schema", []string{"relation"}, func(ctx context.Context, w *warehouse.Warehouse, r []warehouse.Relation) error {
		return w.DropSchema(ctx, r[0].Schema, true)
	})
	method("drop_relation", []string{"relation"}, func(ctx context.Context, w *warehouse.Warehouse, r []warehouse.Relation) error {
		return w.Drop(ctx, r[0])
	})
	method("rename_relation", []string{"from_relation", "to_relation"}, func(ctx context.Context, w *warehouse.Warehouse, r []warehouse.Relation) error {
		if r[0].Schema != r[1].Schema {
			return fmt.Errorf("cannot rename %s to %s: a relation is renamed within its schema", r[0], r[1])
		}
		return w.Rename(ctx, r[0], r[1].Name)
	})
	method("truncate_relation", []string{"relation"}, func(ctx context.Context, w *warehouse.Warehouse, r []warehouse.Relation) error {
		_, err := w.Exec(ctx, "DELETE FROM "+w.Dialect().QuoteRelation(r[0]))
		return err
	})
	return a
}

// warehouseRelation is the warehouse's name of a Jinja relation; DuckDB and
// PostgreSQL connections reach one database, so its name is left out.
func (p *Project) warehouseRelation(r Relation) warehouse.Relation {
	wr := warehouse.Relation{Database: r.Database, Schema: r.Schema, Name: r.Identifier}
	if p.Target.Type == "duckdb" || p.Target.Type == "postgres" {
		wr.Database = ""
	}
	return wr
}

// nodeDocs is a node's docs (show, node_color) from its docs config —
// dbt_project.yml's +docs, config(docs=…) or the docs property — shown by
// default.
func nodeDocs(n *Node) artifacts.Docs {
	d := artifacts.Docs{Show: true}
	m := asMap(n.Config.Raw["docs"])
	if show, ok := m["show"].(bool); ok {
		d.Show = show
	}
	if c, ok := m["node_color"].(string); ok && c != "" {
		d.NodeColor = &c
	}
	return d
}

// macroPatch sets what a property file says of a macro (meta, arguments,
// patch_path) in its manifest entry.
func macroPatch(am *artifacts.Macro, mac *Macro) {
	if mac.Meta != nil {
		am.Meta = mac.Meta
	}
	for _, a := range mac.ArgDocs {
		am.Arguments = append(am.Arguments, a)
	}
	if mac.PatchPath != "" {
		am.PatchPath = artifacts.Str(mac.PatchPath)
	}
}

// incrementalStrategySQL is a project-defined incremental strategy, as
// dbt finds one: for incremental_strategy s other than the built-in
// append, merge and delete+insert, the macro get_incremental_<s>_sql of
// the root project, a package or dbt's (in that order; "+" in s spelled
// "_"). It is called with dbt's arg_dict (target_relation, temp_relation,
// unique_key, dest_columns, incremental_predicates) and returns the SQL
// that writes the new rows. Nil when the strategy is built in or no such
// macro exists (materialize then reports dbt's error).
func (r *runner) incrementalStrategySQL(n *Node) func(ctx context.Context, target, temp warehouse.Relation, dest []warehouse.Column) (string, error) {
	p := r.p
	s := n.Config.IncrementalStrategy
	switch s {
	case "", "default", "append", "merge", "delete+insert":
		return nil
	}
	name := "get_incremental_" + strings.ReplaceAll(s, "+", "_") + "_sql"
	order := []string{p.Name}
	for _, pk := range p.Packages {
		if pk.Name != p.Name {
			order = append(order, pk.Name)
		}
	}
	order = append(order, "dbt")
	var m *jinja.Macro
	for _, pk := range order {
		if mm, ok := p.state.macros[pk][name]; ok {
			m = mm
			break
		}
	}
	if m == nil {
		return nil
	}
	return func(ctx context.Context, target, temp warehouse.Relation, dest []warehouse.Column) (string, error) {
		d := r.w.Dialect()
		cols := make([]any, len(dest))
		for i, c := range dest {
			native := c.Type.Native
			if native == "" {
				native, _ = d.TypeSQL(c.Type)
			}
			cols[i] = map[string]any{"name": c.Name, "column": c.Name, "data_type": native, "dtype": native, "quoted": d.QuoteIdentifier(c.Name)}
		}
		var key any
		switch len(n.Config.UniqueKey) {
		case 0:
		case 1:
			key = n.Config.UniqueKey[0]
		default:
			key = append([]any(nil), toAnySlice(n.Config.UniqueKey)...)
		}
		args := map[string]any{
			"target_relation":        p.relation(n.Database, target.Schema, target.Name, "table"),
			"temp_relation":          p.relation(n.Database, temp.Schema, temp.Name, "table"),
			"unique_key":             key,
			"dest_columns":           cols,
			"incremental_predicates": toAnySlice(n.Config.IncrementalPredicates),
		}
		st := &renderState{p: p, node: n, results: map[string]any{}, w: r.w}
		v, err := m.Call(context.WithValue(ctx, stateKey{}, st), p.jenv, []any{args}, nil)
		if err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		return asString(v), nil
	}
}

func toAnySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
