package selector

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// Macro is what state comparison needs of one macro.
type Macro struct {
	// SQL is the macro's source.
	SQL string
	// DependsOn lists the unique ids of the macros it calls.
	DependsOn []string
}

// State is a previous run to compare with: its manifest's nodes and macros
// (for state:) and its results (for result:). LoadState reads one from a
// --state directory.
type State struct {
	// Nodes are the previous manifest's nodes, sources, exposures, … by
	// unique id (nil: no manifest).
	Nodes map[string]Node
	// Macros are the previous manifest's macros by unique id.
	Macros map[string]Macro
	// Results maps unique ids to their status in the previous
	// run_results.json ("success", "error", "fail", "pass", "warn",
	// "skipped"); nil when there was none.
	Results map[string]string
	// Freshness maps source unique ids to their max_loaded_at in the
	// previous sources.json ("" after a runtime error); nil when there was
	// none. CurrentFreshness is the same of the latest source freshness
	// run (the target directory's sources.json). source_status:fresher
	// compares the two.
	Freshness, CurrentFreshness map[string]string
}

// stateChecks are the sub-states of state:modified.
var stateChecks = []string{"body", "configs", "relation", "persisted_descriptions", "macros", "contract"}

func (e *evaluator) searchState(c *Criterion) (set, error) {
	st := e.opts.State
	if st == nil || st.Nodes == nil {
		return nil, fmt.Errorf("%w: %q needs the manifest.json of a previous run (--state)", ErrNoState, c.Raw)
	}
	v := c.Value
	var check func(cur, prev Node) bool
	switch {
	case v == "new":
		check = func(_, prev Node) bool { return prev == nil }
	case v == "old":
		check = func(_, prev Node) bool { return prev != nil }
	case v == "modified":
		check = func(cur, prev Node) bool { return prev == nil || e.modified(cur, prev, "") }
	case v == "unmodified":
		check = func(cur, prev Node) bool { return prev != nil && !e.modified(cur, prev, "") }
	case strings.HasPrefix(v, "modified."):
		sub := strings.TrimPrefix(v, "modified.")
		known := false
		for _, s := range stateChecks {
			known = known || s == sub
		}
		if !known {
			return nil, fmt.Errorf("%w: %q: unknown state %q; want new, old, modified, unmodified or modified.%s", ErrSyntax, c.Raw, v, strings.Join(stateChecks, "|"))
		}
		check = func(cur, prev Node) bool {
			if prev == nil {
				// A new node counts as modified in every respect it has,
				// as in dbt (sources, exposures and unit tests have none
				// of these; only models have contracts).
				switch {
				case sub == "macros":
					cs, ok := cur.(StateNode)
					return ok && e.macrosChanged(cs.DependsOnMacros())
				case sub == "contract":
					return cur.ResourceType() == Model
				}
				switch cur.ResourceType() {
				case Source, Exposure, Metric, UnitTest, SemanticModel, SavedQuery:
					return false
				}
				return true
			}
			return e.modified(cur, prev, sub)
		}
	default:
		return nil, fmt.Errorf("%w: %q: unknown state %q; want new, old, modified, unmodified or modified.<check>", ErrSyntax, c.Raw, v)
	}
	out := set{}
	for _, n := range e.g.Nodes() {
		prev := st.Nodes[n.UniqueID()]
		if check(n, prev) {
			out.add(n.UniqueID())
		}
	}
	return out, nil
}

// modified compares a node with its previous version on one check, or on
// all of them (and its fqn) when check is "".
func (e *evaluator) modified(cur, prev Node, check string) bool {
	if check == "" {
		if !reflect.DeepEqual(cur.FQN(), prev.FQN()) {
			return true
		}
		for _, c := range stateChecks {
			if e.modified(cur, prev, c) {
				return true
			}
		}
		return false
	}
	cs, cok := cur.(StateNode)
	ps, pok := prev.(StateNode)
	cc, pc := cur.Config(), prev.Config()
	switch check {
	case "body":
		return cok && pok && cs.Checksum() != ps.Checksum()
	case "configs":
		return !sameJSON(withDefaults(withoutKeys(cc, "database", "schema", "alias")), withDefaults(withoutKeys(pc, "database", "schema", "alias")))
	case "relation":
		for _, k := range []string{"database", "schema", "alias"} {
			if !sameJSON(cc[k], pc[k]) {
				return true
			}
		}
		return false
	case "persisted_descriptions":
		if !cok || !pok {
			return false
		}
		pd, _ := asMap(cc["persist_docs"])
		on, _ := pd["relation"].(bool)
		return on && cs.Description() != ps.Description()
	case "contract":
		return !sameJSON(cc["contract"], pc["contract"])
	case "macros":
		if !cok {
			return false
		}
		return e.macrosChanged(cs.DependsOnMacros())
	}
	return false
}

// macrosChanged reports whether any macro reachable from ids changed since
// the previous state (or is new, or gone).
func (e *evaluator) macrosChanged(ids []string) bool {
	seen := map[string]bool{}
	stack := append([]string(nil), ids...)
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[id] {
			continue
		}
		seen[id] = true
		cur, cok := e.opts.Macros[id]
		prev, pok := e.opts.State.Macros[id]
		if cok != pok || cur.SQL != prev.SQL {
			return true
		}
		stack = append(stack, cur.DependsOn...)
	}
	return false
}

func withoutKeys(m map[string]any, keys ...string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	// Hooks compare by their SQL, whether given as strings or as the
	// Hook objects a manifest holds.
	for _, k := range []string{"pre-hook", "post-hook"} {
		if v, ok := out[k]; ok {
			out[k] = hookSQL(v)
		}
	}
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

// sameJSON compares two values as their JSON encodings, so that a config
// read back from a manifest ([]any, float64) equals the one built in
// memory ([]string, int).
func sameJSON(a, b any) bool {
	ja, errA := json.Marshal(normalizeEmpty(a))
	jb, errB := json.Marshal(normalizeEmpty(b))
	return errA == nil && errB == nil && string(ja) == string(jb)
}

func normalizeEmpty(v any) any {
	if m, ok := v.(map[string]any); ok && len(m) == 0 {
		return nil
	}
	return v
}

func hookSQL(v any) []string {
	out := []string{}
	var add func(x any)
	add = func(x any) {
		switch x := x.(type) {
		case string:
			out = append(out, x)
		case []string:
			out = append(out, x...)
		case []any:
			for _, el := range x {
				add(el)
			}
		case map[string]any:
			if s, ok := x["sql"].(string); ok {
				out = append(out, s)
			}
		}
	}
	add(v)
	return out
}

// configDefaults are dbt's defaults of config keys: a config that leaves a
// key out has its default, so leaving it out and spelling the default are
// the same config.
var configDefaults = map[string]any{
	"enabled": true, "tags": []any{}, "meta": map[string]any{}, "pre-hook": []any{}, "post-hook": []any{},
	"persist_docs": map[string]any{}, "quoting": map[string]any{}, "column_types": map[string]any{},
	"grants": map[string]any{}, "packages": []any{}, "severity": "ERROR", "on_schema_change": "ignore",
	"docs": map[string]any{"show": true, "node_color": nil}, "contract": map[string]any{"enforced": false, "alias_types": true},
	"fail_calc": "count(*)", "warn_if": "!= 0", "error_if": "!= 0",
}

func withDefaults(m map[string]any) map[string]any {
	for k, v := range configDefaults {
		if _, ok := m[k]; !ok {
			m[k] = v
		}
	}
	if t, ok := m["tags"].(string); ok {
		m["tags"] = []any{t}
	}
	return m
}

// searchSourceStatus is dbt's source_status:fresher: sources whose data is
// newer in the current sources.json than in the previous one (or that the
// previous one lacks), leaving out any whose freshness query failed in
// either.
func (e *evaluator) searchSourceStatus(c *Criterion) (set, error) {
	st := e.opts.State
	if st == nil || st.Freshness == nil {
		return nil, fmt.Errorf("%w: %q needs the sources.json of a previous source freshness (--state)", ErrNoState, c.Raw)
	}
	if st.CurrentFreshness == nil {
		return nil, fmt.Errorf("%w: %q needs the sources.json of a current source freshness run (target directory)", ErrNoState, c.Raw)
	}
	if c.Value != "fresher" {
		return nil, fmt.Errorf("%w: %q: source_status supports fresher", ErrSyntax, c.Raw)
	}
	out := set{}
	for id, cur := range st.CurrentFreshness {
		prev, seen := st.Freshness[id]
		if cur == "" || (seen && prev == "") {
			continue
		}
		if !seen || laterTimestamp(cur, prev) {
			if _, ok := e.g.Node(id); ok {
				out.add(id)
			}
		}
	}
	return out, nil
}

// laterTimestamp reports whether a is after b, both RFC 3339 timestamps (or,
// failing that, compared as text).
func laterTimestamp(a, b string) bool {
	ta, errA := time.Parse(time.RFC3339Nano, a)
	tb, errB := time.Parse(time.RFC3339Nano, b)
	if errA != nil || errB != nil {
		return a > b
	}
	return ta.After(tb)
}
