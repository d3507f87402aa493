package transform

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/dataopskit/dataops/transform/materialize"
	"github.com/dataopskit/dataops/warehouse"
)

// runUnitTest runs a unit test: its model compiled with each given input's
// ref or source replaced by a fixture CTE, compared with the expected rows.
func (r *runner) runUnitTest(ctx context.Context, n *Node, nr *NodeResult) error {
	p := r.p
	model, err := p.resolveRef(n, "", n.Unit.Model)
	if err != nil {
		return err
	}
	refAs, srcAs := map[string]string{}, map[string]string{}
	ut := materialize.UnitTest{Name: n.Name}
	for _, g := range n.Unit.Given {
		refs, srcs, err := p.parseRefExpr(g.Input, n.OriginalFilePath)
		if err != nil {
			return err
		}
		var name string
		var rel warehouse.Relation
		switch {
		case len(refs) == 1 && len(srcs) == 0:
			t, err := p.resolveRef(n, refPkg(refs[0]), refs[0][len(refs[0])-1])
			if err != nil {
				return err
			}
			name = "__dbt__cte__" + t.Name
			refAs[t.UniqueID] = name
			rel = r.relation(t)
		case len(srcs) == 1 && len(refs) == 0:
			s, err := p.resolveSource(n, srcs[0][0], srcs[0][1])
			if err != nil {
				return err
			}
			name = "__dbt__cte__" + s.SourceName + "__" + s.Name
			srcAs[s.UniqueID] = name
			rel = s.Relation()
			if rel.Database == p.Target.Database {
				rel.Database = ""
			}
		default:
			return fmt.Errorf("given input %q must be one ref() or source()", g.Input)
		}
		cols, err := r.w.Columns(ctx, rel)
		if err != nil && !errors.Is(err, warehouse.ErrNotFound) {
			return err
		}
		ut.Given = append(ut.Given, materialize.UnitTestInput{Name: name, Fixture: materialize.Fixture{Rows: g.Rows, CSV: g.CSV, SQL: g.SQL, Columns: cols}})
	}
	ut.Expect = materialize.Fixture{Rows: n.Unit.Expect.Rows, CSV: n.Unit.Expect.CSV, SQL: n.Unit.Expect.SQL}
	sql, err := r.c.renderWith(ctx, model, refAs, srcAs)
	if err != nil {
		return err
	}
	ut.ModelSQL = sql
	// Scratch relations are named after this one: one per unit test, so
	// unit tests of the same model can run at once.
	near := r.relation(model)
	sum := md5.Sum([]byte(n.UniqueID))
	near.Name += "_" + hex.EncodeToString(sum[:4])
	res, err := materialize.RunUnitTest(ctx, r.w, near, ut)
	if err != nil {
		return err
	}
	nr.CompiledCode = res.ActualSQL
	if res.Pass {
		nr.Status = StatusPass
		return nil
	}
	nr.Status = StatusFail
	f := int64(len(res.Missing) + len(res.Unexpected))
	nr.Failures = &f
	nr.Message = "actual differs from expected:\n" + strings.TrimRight(res.Diff, "\n")
	return nil
}
