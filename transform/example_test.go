package transform_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/dataopskit/dataops/transform"
	_ "github.com/dataopskit/dataops/warehouse/duckdb"
)

// Example loads a small dbt project, builds it on an in-memory DuckDB
// warehouse and reads what the models made.
func Example() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	files := map[string]string{
		"dbt_project.yml":   "name: shop\nprofile: shop\nmodels:\n  shop:\n    +materialized: table\n",
		"profiles.yml":      "shop:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: ':memory:'\n",
		"seeds/orders.csv":  "id,amount\n1,10\n2,32\n",
		"models/totals.sql": "select count(*) as orders, sum(amount) as revenue from {{ ref('orders') }}",
		"models/schema.yml": "version: 2\nmodels:\n  - name: totals\n    columns:\n      - name: orders\n        tests: [not_null]\n",
	}
	for name, content := range files {
		_ = os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755)
		_ = os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644)
	}
	ctx := context.Background()
	p, err := transform.Load(ctx, dir, transform.WithProfilesDir(dir))
	if err != nil {
		fmt.Println(err)
		return
	}
	w, err := p.OpenWarehouse(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Close()
	res, err := p.Run(ctx, w, transform.RunOptions{Command: transform.CommandBuild})
	if err != nil {
		fmt.Println(err)
		return
	}
	sort.Slice(res.Results, func(i, j int) bool { return res.Results[i].UniqueID < res.Results[j].UniqueID })
	for _, r := range res.Results {
		fmt.Println(r.UniqueID, r.Status)
	}
	var revenue int
	_ = w.Get(ctx, &revenue, "select revenue from main.totals")
	fmt.Println("revenue", revenue)
	// Output:
	// model.shop.totals success
	// seed.shop.orders success
	// test.shop.not_null_totals_orders.5aad7a559e pass
	// revenue 42
}
