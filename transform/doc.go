// Package transform runs unmodified dbt projects — models, sources, seeds,
// snapshots, tests, macros and packages — on a warehouse, in the three
// phases dbt has: load, compile, execute.
//
// Load reads a project (dbt_project.yml, the profiles.yml target, packages,
// property YAML, docs) and runs the parse render of every node, which
// collects its refs, sources and config() calls and builds the DAG:
//
//	p, err := transform.Load(ctx, "jaffle_shop", transform.WithProfilesDir("."))
//	w, err := p.OpenWarehouse(ctx) // import warehouse/duckdb or warehouse/postgres
//	res, err := p.Run(ctx, w, transform.RunOptions{Command: transform.CommandBuild})
//	for _, r := range res.Results { fmt.Println(r.UniqueID, r.Status) }
//
// Compile renders SQL with execute=true (ref resolved to relations,
// ephemeral models injected as CTEs named __dbt__cte__<name>) and writes it
// under target/compiled. Run compiles each node just before executing it,
// so introspective macros see what upstream nodes built; it schedules nodes
// along the DAG with a bounded number of threads, skips what depends on a
// failure, stops early with FailFast, and reports every node as a
// NodeResult (and as Events for a console). Materializations are Go code in
// package materialize, not Jinja.
//
// The Jinja context is dbt's: ref, source, config, var, env_var, target,
// this, model, is_incremental, execute, run_query, statement / load_result,
// adapter (dispatch, get_relation, get_columns_in_relation, quote, …),
// api.Relation, exceptions, modules, fromjson / tojson / fromyaml / toyaml,
// zip, set, local_md5, invocation_id, run_started_at, flags, graph.
// Macros resolve as dbt resolves them: the root project's, then packages',
// then dbt's built-ins; adapter.dispatch searches the project's dispatch
// config, then the namespace, for <adapter>__name then default__name.
// generate_schema_name, generate_alias_name and generate_database_name
// behave as dbt's defaults unless the project overrides them.
//
// Macros are compiled once per project; inside them, this and model name
// the node whose render called them, as in dbt.
//
// A Project holds no global state: several can be loaded and run at once
// in one process.
package transform
