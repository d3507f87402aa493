// Package macros holds the Jinja source of dbt's own macro package, the
// "dbt" namespace: the cross-database macros (dateadd, datediff, date_trunc,
// last_day, concat, hash, split_part, listagg, safe_cast, type_string, …) and
// the generic tests (unique, not_null, accepted_values, relationships), each
// dispatching through adapter.dispatch(name, 'dbt') to duckdb__name or
// postgres__name where the engines differ, and to default__name otherwise,
// as dbt-core, dbt-duckdb and dbt-postgres define them. A project or package
// that defines its own <adapter>__name or default__name wins, because
// dispatch searches the project first.
//
// The files are embedded; the runner loads them as the package called
// Package:
//
//	for name, src := range macros.Files() {
//		// parse src as macro file name of package macros.Package
//	}
//
// The macros expect what dbt's context provides: adapter.dispatch,
// the dbt namespace (for calls such as dbt.dateadd inside them),
// exceptions.raise_compiler_error, config.get and flags (for
// should_store_failures, which not_null calls), statement and load_result
// (for get_intervals_between, which date_spine calls);
// the generic tests are {% test %} blocks, a host tag the runner registers.
package macros

import (
	"embed"
	"io/fs"
	"sort"
)

// Package is the name of the macro package these files form.
const Package = "dbt"

//go:embed *.sql
var files embed.FS

// FS returns the macro files (*.sql at its root).
func FS() fs.FS { return files }

// Files returns the macro files by name (such as "dates.sql") with their
// source.
func Files() map[string]string {
	out := map[string]string{}
	for _, name := range Names() {
		b, _ := files.ReadFile(name)
		out[name] = string(b)
	}
	return out
}

// Names lists the macro files in sorted order.
func Names() []string {
	entries, _ := files.ReadDir(".")
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}
