package transform

import "github.com/dataopskit/dataops/transform/macros"

// builtinMacros are the macros of dbt's own package ("dbt") that belong to
// the runner rather than to transform/macros: schema, alias and database
// naming, and the statement block. Projects and packages override any of
// them by defining a macro of the same name (or an adapter-prefixed
// variant, for dispatched ones). The cross-database macros and generic
// tests come from transform/macros (see loadBuiltins).
const builtinMacros = `
{% macro generate_schema_name(custom_schema_name=none, node=none) -%}
{{ return(adapter.dispatch('generate_schema_name', 'dbt')(custom_schema_name, node)) }}
{%- endmacro %}

{% macro default__generate_schema_name(custom_schema_name, node) -%}
{%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ target.schema }}_{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}

{% macro generate_alias_name(custom_alias_name=none, node=none) -%}
{{ return(adapter.dispatch('generate_alias_name', 'dbt')(custom_alias_name, node)) }}
{%- endmacro %}

{% macro default__generate_alias_name(custom_alias_name=none, node=none) -%}
{%- if custom_alias_name -%}{{ custom_alias_name | trim }}{%- elif node.version -%}{{ return(node.name ~ "_v" ~ (node.version | replace(".", "_"))) }}{%- else -%}{{ node.name }}{%- endif -%}
{%- endmacro %}

{% macro generate_database_name(custom_database_name=none, node=none) -%}
{{ return(adapter.dispatch('generate_database_name', 'dbt')(custom_database_name, node)) }}
{%- endmacro %}

{% macro default__generate_database_name(custom_database_name=none, node=none) -%}
{%- if custom_database_name is none -%}{{ target.database }}{%- else -%}{{ custom_database_name | trim }}{%- endif -%}
{%- endmacro %}

{% macro statement(name=None, fetch_result=False, auto_begin=True, language='sql') -%}
{%- if execute -%}{%- do _dbt_statement(name, caller(), fetch_result) -%}{%- endif -%}
{%- endmacro %}

`

// loadBuiltins adds dbt's own macro package: the runner's macros above,
// then transform/macros' files.
func (p *Project) loadBuiltins() error {
	if err := p.addMacroSource(macros.Package, "macros/runner.sql", builtinMacros, ""); err != nil {
		return err
	}
	for _, name := range macros.Names() {
		if err := p.addMacroSource(macros.Package, "macros/"+name, macros.Files()[name], ""); err != nil {
			return err
		}
	}
	return nil
}
