package materialize_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dataopskit/dataops/transform/materialize"
	"github.com/dataopskit/dataops/warehouse"
	_ "github.com/dataopskit/dataops/warehouse/duckdb"
)

// Build a table, then grow it incrementally with a merge on its key.
func ExampleIncremental() {
	ctx := context.Background()
	w, err := warehouse.Open(ctx, "duckdb:")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Close()
	rel := warehouse.Rel("main", "orders")
	cfg := materialize.IncrementalConfig{Strategy: "merge", UniqueKey: []string{"id"}, OnSchemaChange: "append_new_columns"}
	// The first run builds the table.
	materialize.Incremental(ctx, w, rel, "select 1 as id, 'placed' as status", cfg)
	// Later runs merge the new rows by key; the new column is added.
	_, err = materialize.Incremental(ctx, w, rel, "select 1 as id, 'shipped' as status, 9.5 as amount union all select 2, 'placed', 3", cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	printRows(ctx, w, "select id, status, amount from main.orders order by id")
	// Output:
	// 1 shipped 9.5
	// 2 placed 3.0
}

// Load a CSV seed with dbt's type inference, then test it.
func ExampleSeed() {
	ctx := context.Background()
	w, err := warehouse.Open(ctx, "duckdb:")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Close()
	dir, _ := os.MkdirTemp("", "seed")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "customers.csv")
	os.WriteFile(path, []byte("id,name,signed_up,vip\n1,Ann,2024-01-02,true\n2,Bob,2024-02-03,false\n2,Cy,,\n"), 0o644)

	rel := warehouse.Rel("main", "customers")
	res, err := materialize.Seed(ctx, w, rel, path, materialize.SeedConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Code)
	cols, _ := w.Columns(ctx, rel)
	for _, c := range cols {
		fmt.Println(c.Name, c.Type.Native)
	}
	unique := materialize.GenericTest{Name: "unique", Model: w.Dialect().QuoteRelation(rel), ColumnName: "id"}
	sql, _ := unique.SQL(false)
	result, err := materialize.RunTest(ctx, w, "unique_customers_id", sql, materialize.TestConfig{})
	fmt.Println(result.Status, result.Message, err)
	// Output:
	// CREATE 3
	// id INTEGER
	// name VARCHAR
	// signed_up DATE
	// vip BOOLEAN
	// fail Got 1 result, configured to fail if != 0 <nil>
}

// A timestamp snapshot keeps every version of a row.
func ExampleSnapshot() {
	ctx := context.Background()
	w, err := warehouse.Open(ctx, "duckdb:")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Close()
	w.Exec(ctx, "create table src as select 1 as id, 'new' as status, timestamp '2024-01-01 00:00:00' as updated_at")
	rel := warehouse.Rel("main", "src_snapshot")
	cfg := materialize.SnapshotConfig{Strategy: "timestamp", UniqueKey: []string{"id"}, UpdatedAt: "updated_at"}
	materialize.Snapshot(ctx, w, rel, "select * from src", cfg)
	w.Exec(ctx, "update src set status = 'done', updated_at = timestamp '2024-01-05 00:00:00'")
	if _, err := materialize.Snapshot(ctx, w, rel, "select * from src", cfg); err != nil {
		fmt.Println(err)
		return
	}
	printRows(ctx, w, "select status, dbt_valid_from, dbt_valid_to from main.src_snapshot order by dbt_valid_from")
	// Output:
	// new 2024-01-01 00:00:00 +0000 UTC 2024-01-05 00:00:00 +0000 UTC
	// done 2024-01-05 00:00:00 +0000 UTC <nil>
}

// A table is built aside and swapped in within one transaction.
func ExampleTable() {
	ctx := context.Background()
	w, err := warehouse.Open(ctx, "duckdb:")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Close()
	res, err := materialize.Table(ctx, w, warehouse.Rel("analytics", "daily"), "select 42 as answer", materialize.TableConfig{
		Hooks: materialize.Hooks{Post: []materialize.Hook{{SQL: "create table analytics.audit as select count(*) as n from analytics.daily"}}},
	})
	fmt.Println(res.Code, err)
	var n int
	w.Get(ctx, &n, "select n from analytics.audit")
	fmt.Println(n)
	// Output:
	// OK <nil>
	// 1
}

// printRows prints each row of a query's result.
func printRows(ctx context.Context, w *warehouse.Warehouse, query string) {
	for rec, err := range w.Rows(ctx, query) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(rec.Values...)
	}
}
