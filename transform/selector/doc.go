// Package selector implements dbt's node selection: the --select, --exclude
// and --selector flags, selectors.yml, and the tests selected indirectly
// through the nodes they test.
//
// Selection works on a Graph of Nodes, small interfaces the runner adapts
// its own project to (Info and NewGraph are ready-made ones). The syntax is
// dbt's: space-separated values are a union, comma-separated ones an
// intersection; each criterion is "[@][n+][method:]value[+n]" with the
// methods fqn (the default), tag, path, file, package, config.<key>, source,
// resource_type, test_type, test_name, exposure, metric, group, access,
// unit_test, semantic_model, saved_query, state, result and source_status
// (against a State that LoadState reads from a previous run's artifacts),
// and selector (a selectors.yml entry). Tests join a selection through the
// nodes they test as dbt's --indirect-selection says (eager by default).
//
// The shortest use:
//
//	g := selector.NewGraph(nodes)
//	res, err := selector.Select(g, selector.Options{
//		Select:        []string{"+orders", "tag:nightly,config.materialized:table"},
//		Exclude:       []string{"stg_payments"},
//		ResourceTypes: []string{selector.Model, selector.Test},
//	})
//	// res.Selected holds sorted unique ids.
package selector
