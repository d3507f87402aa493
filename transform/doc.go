// Package transform will run unmodified dbt projects — models, sources,
// seeds, snapshots, tests, macros and packages — on any warehouse, with a
// Jinja engine of its own and dbt's artifacts.
//
// It holds no API yet: its issues (the Jinja engine, then the runner) build
// it. See DESIGN.md.
package transform
