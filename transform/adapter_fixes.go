package transform

import (
	"context"
	"fmt"

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
