package selector_test

import (
	"fmt"

	"github.com/dataopskit/dataops/transform/selector"
)

// A project of a seed, two models and a test on the second, selected as
// `dbt ls -s +orders` and `dbt ls -s tag:daily --exclude orders` would.
func ExampleSelect() {
	nodes := []selector.Node{
		&selector.Info{ID: "seed.shop.raw_orders", Type: selector.Seed, NodeName: "raw_orders", Package: "shop",
			FullName: []string{"shop", "raw_orders"}, Path: "seeds/raw_orders.csv"},
		&selector.Info{ID: "model.shop.stg_orders", Type: selector.Model, NodeName: "stg_orders", Package: "shop",
			FullName: []string{"shop", "staging", "stg_orders"}, Path: "models/staging/stg_orders.sql",
			TagList: []string{"daily"}, Parents: []string{"seed.shop.raw_orders"}},
		&selector.Info{ID: "model.shop.orders", Type: selector.Model, NodeName: "orders", Package: "shop",
			FullName: []string{"shop", "marts", "orders"}, Path: "models/marts/orders.sql",
			TagList: []string{"daily"}, Conf: map[string]any{"materialized": "table"}, Parents: []string{"model.shop.stg_orders"}},
		&selector.Info{ID: "test.shop.unique_orders_id.1f", Type: selector.Test, NodeName: "unique_orders_id", Package: "shop",
			FullName: []string{"shop", "marts", "unique_orders_id"}, Path: "models/marts/schema.yml",
			Parents: []string{"model.shop.orders"}, GenericTest: "unique"},
	}
	g := selector.NewGraph(nodes)

	res, err := selector.Select(g, selector.Options{Select: []string{"+orders"}})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Selected)

	res, err = selector.Select(g, selector.Options{Select: []string{"tag:daily"}, Exclude: []string{"orders"}})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Selected)
	// Output:
	// [model.shop.orders model.shop.stg_orders seed.shop.raw_orders test.shop.unique_orders_id.1f]
	// [model.shop.stg_orders]
}

// selectors.yml definitions are parsed once and named by --selector.
func ExampleParseSelectors() {
	sels, err := selector.ParseSelectors("selectors.yml", []byte(`
selectors:
  - name: nightly
    default: true
    definition:
      union:
        - tag:nightly
        - method: config.materialized
          value: incremental
          parents: true
`), selector.SelectorsOptions{})
	if err != nil {
		panic(err)
	}
	def := sels.Default()
	fmt.Println(def.Name, "at line", def.Line, "=", def.Definition)
	// Output: nightly at line 3 = tag:nightly +config.materialized:incremental
}
