package transform

import (
	"fmt"
	"strings"
)

// knownConfigs are the config keys the runner understands or that dbt
// defines for adapters we target; any other key warns once.
var knownConfigs = map[string]bool{
	"materialized": true, "enabled": true, "schema": true, "database": true, "alias": true, "tags": true,
	"pre-hook": true, "post-hook": true, "pre_hook": true, "post_hook": true, "unique_key": true,
	"incremental_strategy": true, "on_schema_change": true, "incremental_predicates": true, "full_refresh": true,
	"persist_docs": true, "meta": true, "docs": true, "grants": true, "contract": true, "column_types": true,
	"quote_columns": true, "delimiter": true, "strategy": true, "updated_at": true, "check_cols": true,
	"hard_deletes": true, "invalidate_hard_deletes": true, "target_schema": true, "target_database": true,
	"snapshot_meta_column_names": true, "dbt_valid_to_current": true, "severity": true, "warn_if": true,
	"error_if": true, "where": true, "limit": true, "store_failures": true, "store_failures_as": true,
	"fail_calc": true, "sql_header": true, "group": true, "access": true, "on_configuration_change": true,
	"quoting": true, "packages": true, "indexes": true, "unlogged": true, "event_time": true, "batch_size": true,
	"lookback": true, "begin": true, "concurrent_batches": true, "file_format": true, "location_root": true,
	"options": true, "labels": true, "bind": true, "alias_types": true, "copy_grants": true, "transient": true,
	"cluster_by": true, "partition_by": true, "column_types_quoted": true, "freshness": true, "loaded_at_field": true,
	"+docs": true, "version": true, "latest_version": true, "deprecation_date": true, "plugin": true,
}

// dictConfigs are config keys whose values are mappings (so a mapping
// under such a key in a folder tree is a value, not a sub-folder).
var dictConfigs = map[string]bool{"meta": true, "persist_docs": true, "docs": true, "grants": true, "column_types": true, "quoting": true, "contract": true, "snapshot_meta_column_names": true, "options": true, "labels": true, "partition_by": true, "freshness": true}

// mergeConfig sets key on cfg as dbt merges configs: tags and hooks
// accumulate, meta merges, everything else replaces.
func mergeConfig(cfg map[string]any, key string, v any) {
	switch key {
	case "pre_hook":
		key = "pre-hook"
	case "post_hook":
		key = "post-hook"
	case "data_tests":
		key = "tests"
	}
	switch key {
	case "tags":
		cfg[key] = append(asStrings(cfg[key]), asStrings(v)...)
	case "pre-hook", "post-hook":
		// A new slice: the old one may be a project tree's list, shared
		// by every node under it.
		old, add := asList(cfg[key]), asList(v)
		if len(old)+len(add) == 0 {
			cfg[key] = append(old, add...)
			break
		}
		cfg[key] = append(append(make([]any, 0, len(old)+len(add)), old...), add...)
	case "meta":
		m := map[string]any{}
		for k, e := range asMap(cfg[key]) {
			m[k] = e
		}
		for k, e := range asMap(v) {
			m[k] = e
		}
		cfg[key] = m
	default:
		cfg[key] = v
	}
}

// applyTree applies the config tree of dbt_project.yml (models:, seeds:, …)
// along the node's fqn: configs at each level, then the child named by the
// next fqn part.
func applyTree(cfg map[string]any, tree map[string]any, fqn []string, file string, warn func(key, msg string)) {
	for _, k := range sortedKeys(tree) {
		v := tree[k]
		if strings.HasPrefix(k, "+") {
			key := k[1:]
			if !knownConfigs[key] {
				warn("cfg:"+key, fmt.Sprintf("%s: unknown config key %q (ignored by the runner)", file, key))
			}
			mergeConfig(cfg, key, v)
			continue
		}
		if _, isMap := v.(map[string]any); isMap && !dictConfigs[k] {
			continue // a folder
		}
		if !knownConfigs[k] {
			warn("cfg:"+k, fmt.Sprintf("%s: unknown config key %q (ignored by the runner)", file, k))
		}
		mergeConfig(cfg, k, v)
	}
	if len(fqn) == 0 {
		return
	}
	if sub, ok := tree[fqn[0]].(map[string]any); ok && !dictConfigs[fqn[0]] {
		applyTree(cfg, sub, fqn[1:], file, warn)
	}
}

// baseConfig is the node's config from the project files: defaults, then
// the package's own dbt_project.yml, then the root project's. Unknown keys
// are reported to warn (warnOnce's arguments).
func (l *loader) baseConfig(n *Node, warn func(key, msg string)) map[string]any {
	cfg := map[string]any{"enabled": true}
	switch n.ResourceType {
	case ResourceModel:
		cfg["materialized"] = "view"
	case ResourceSeed:
		cfg["materialized"] = "seed"
	case ResourceSnapshot:
		cfg["materialized"] = "snapshot"
	case ResourceTest:
		cfg["materialized"] = "test"
		cfg["severity"] = "ERROR"
		cfg["warn_if"] = "!= 0"
		cfg["error_if"] = "!= 0"
		cfg["fail_calc"] = "count(*)"
	case ResourceAnalysis:
		cfg["materialized"] = "view"
	}
	p := l.p
	var pkgs []*Package
	if pk, ok := p.packageNamed(n.Package); ok && !pk.Root {
		pkgs = append(pkgs, pk)
	}
	pkgs = append(pkgs, p.root)
	for _, pk := range pkgs {
		tree := pk.cfg.trees[n.ResourceType]
		if tree != nil {
			applyTree(cfg, tree, n.FQN, pk.cfg.file, warn)
		}
	}
	return cfg
}

// typedConfig fills the typed fields of NodeConfig from the raw map.
func typedConfig(raw map[string]any) NodeConfig {
	c := NodeConfig{Raw: raw}
	c.Enabled = asBool(raw["enabled"], true)
	c.Materialized = asString(raw["materialized"])
	c.Database = asString(raw["database"])
	c.Schema = asString(raw["schema"])
	c.Alias = asString(raw["alias"])
	c.Tags = asStrings(raw["tags"])
	c.PreHook = hookSQL(raw["pre-hook"])
	c.PostHook = hookSQL(raw["post-hook"])
	c.UniqueKey = asStrings(raw["unique_key"])
	c.IncrementalStrategy = asString(raw["incremental_strategy"])
	c.OnSchemaChange = asString(raw["on_schema_change"])
	if c.OnSchemaChange == "" {
		c.OnSchemaChange = "ignore"
	}
	c.IncrementalPredicates = asStrings(raw["incremental_predicates"])
	if v, ok := raw["full_refresh"]; ok && v != nil {
		b := asBool(v, false)
		c.FullRefresh = &b
	}
	if ct := asMap(raw["column_types"]); ct != nil {
		c.ColumnTypes = map[string]string{}
		for k, v := range ct {
			c.ColumnTypes[k] = asString(v)
		}
	}
	if v, ok := raw["quote_columns"]; ok && v != nil {
		b := asBool(v, false)
		c.QuoteColumns = &b
	}
	c.Delimiter = asString(raw["delimiter"])
	c.Strategy = asString(raw["strategy"])
	c.UpdatedAt = asString(raw["updated_at"])
	c.CheckCols = asStrings(raw["check_cols"])
	c.HardDeletes = asString(raw["hard_deletes"])
	if c.HardDeletes == "" {
		if asBool(raw["invalidate_hard_deletes"], false) {
			c.HardDeletes = "invalidate"
		} else {
			c.HardDeletes = "ignore"
		}
	}
	c.TargetSchema = asString(raw["target_schema"])
	c.Severity = strings.ToUpper(asString(raw["severity"]))
	c.WarnIf = asString(raw["warn_if"])
	c.ErrorIf = asString(raw["error_if"])
	c.Where = asString(raw["where"])
	if n, ok := asInt(raw["limit"]); ok && raw["limit"] != nil {
		c.Limit = &n
	}
	if v, ok := raw["store_failures"]; ok && v != nil {
		b := asBool(v, false)
		c.StoreFailures = &b
	}
	return c
}

// hookSQL reads hooks given as strings, lists, or {sql: …} mappings.
func hookSQL(v any) []string {
	var out []string
	for _, h := range asList(v) {
		switch x := h.(type) {
		case map[string]any:
			out = append(out, asString(x["sql"]))
		case nil:
		default:
			out = append(out, asString(x))
		}
	}
	return out
}
