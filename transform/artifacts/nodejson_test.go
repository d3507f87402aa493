package artifacts

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestNodeJSONMatchesReflection holds Node.MarshalJSON to the bytes of the
// reflection-based encoding it replaced, over every kind of node and
// random combinations of set, nil and empty fields, with strings that need
// escaping.
func TestNodeJSONMatchesReflection(t *testing.T) {
	kinds := []string{"model", "seed", "snapshot", "analysis", "test", "operation", "sql_operation", "unit_test", ""}
	strs := []string{"", "plain", "a & b", "x > 1", "with \"quotes\" and \\", "<html> & co", "line\nbreak\ttab", "é ü \u2028 \x01 \xff", "select * from {{ ref('a') }}"}
	floats := []float64{0, 1795666242, 1795666242.123456, 1e-7, 2.5e21, -3.25}
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func() string { return strs[rng.IntN(len(strs))] }
	ptr := func() *string {
		if rng.IntN(3) == 0 {
			return nil
		}
		s := pick()
		return &s
	}
	list := func() []string {
		switch rng.IntN(3) {
		case 0:
			return nil
		case 1:
			return []string{}
		}
		return []string{pick(), pick()}
	}
	dict := func() map[string]any {
		switch rng.IntN(3) {
		case 0:
			return nil
		case 1:
			return map[string]any{}
		}
		d := map[string]any{pick(): pick(), "n": rng.IntN(5), "l": []any{1.5, true, nil}, "s": list()}
		if rng.IntN(3) == 0 { // shapes the direct path leaves to encoding/json
			d["odd"] = []any{map[string]string{"b": pick(), "a": "<"}, []int{1, 2}, 1e25, int64(-7), nil}
		}
		return d
	}
	for i := range 3000 {
		n := &Node{
			Database: ptr(), Schema: pick(), Name: pick(), ResourceType: kinds[i%len(kinds)], PackageName: pick(),
			Path: pick(), OriginalFilePath: pick(), UniqueID: pick(), FQN: list(), Alias: pick(),
			Checksum: FileHash{Name: pick(), Checksum: pick()}, Config: dict(), Tags: list(), Description: pick(),
			Meta: dict(), Group: ptr(), Docs: Docs{Show: rng.IntN(2) == 0, NodeColor: ptr()}, PatchPath: ptr(), BuildPath: ptr(),
			UnrenderedConfig: dict(), CreatedAt: floats[rng.IntN(len(floats))], ConfigCallDict: dict(), UnrenderedConfigCallDict: dict(),
			RelationName: ptr(), RawCode: pick(), DocBlocks: list(), RootPath: ptr(),
			DependsOn: DependsOn{Macros: list(), Nodes: list()}, Language: []string{"", "sql", "python"}[rng.IntN(3)],
			CompiledPath: ptr(), Compiled: rng.IntN(2) == 0, CompiledCode: ptr(), ExtraCTEsInjected: rng.IntN(2) == 0,
			Access: []string{"", "public"}[rng.IntN(2)], DeprecationDate: ptr(), PrimaryKey: list(),
			ColumnName: ptr(), FileKeyName: ptr(), AttachedNode: ptr(),
		}
		if rng.IntN(2) == 0 {
			n.Config = map[string]any{"materialized": "table", "post-hook": []string{pick()}, "pre-hook": pick(), "tags": list()}
		}
		if rng.IntN(2) == 0 {
			n.Columns = map[string]*Column{pick(): {Name: pick(), Description: pick(), DataType: ptr(), Tags: list()}, "nil": nil}
		} else if rng.IntN(2) == 0 {
			n.Columns = map[string]*Column{}
		}
		if rng.IntN(2) == 0 {
			n.Refs = []RefArgs{{Name: pick()}, {Name: pick(), Package: ptr(), Version: []any{nil, 2, "3"}[rng.IntN(3)]}}
		}
		if rng.IntN(2) == 0 {
			n.Sources = [][]string{{pick(), pick()}, nil}
			n.Metrics = [][]string{}
		}
		if rng.IntN(2) == 0 {
			n.ExtraCTEs = []InjectedCTE{{ID: pick(), SQL: pick()}}
		}
		if rng.IntN(2) == 0 {
			n.Contract = &Contract{Enforced: true, Checksum: ptr()}
		}
		if rng.IntN(2) == 0 {
			n.Constraints = []any{map[string]any{"type": "not_null"}}
		}
		if rng.IntN(2) == 0 {
			n.Version, n.LatestVersion = 2, "2"
		}
		if rng.IntN(2) == 0 {
			n.TestMetadata = &TestMetadata{Name: pick(), Kwargs: map[string]any{"column_name": pick(), "values": []string{pick()}}, Namespace: ptr()}
		}
		if rng.IntN(2) == 0 {
			idx := rng.IntN(9)
			n.Index = &idx
		}
		want, werr := reflectNodeJSON(n)
		got, gerr := n.MarshalJSON()
		if (werr != nil) != (gerr != nil) {
			t.Fatalf("node %d: error %v, reflection %v", i, gerr, werr)
		}
		if !bytes.Equal(got, want) {
			j := 0
			for j < min(len(got), len(want)) && got[j] == want[j] {
				j++
			}
			t.Fatalf("node %d (%s): differs at byte %d:\n got …%s\nwant …%s", i, n.ResourceType, j, got[j:], want[j:])
		}
	}
}

// TestOptionalKeys: the switch of isOptionalKey and the optionalKeys set
// built from kindKeys agree.
func TestOptionalKeys(t *testing.T) {
	n := 0
	for k := range optionalKeys {
		if !isOptionalKey(k) {
			t.Errorf("isOptionalKey(%q) = false", k)
		}
		n++
	}
	for _, k := range []string{"name", "config", "schema", "tags", "docs", "raw_code"} {
		if isOptionalKey(k) {
			t.Errorf("isOptionalKey(%q) = true", k)
		}
	}
	if n != 24 {
		t.Errorf("optionalKeys has %d keys; isOptionalKey lists 24", n)
	}
}

// BenchmarkNodeJSON compares the field-by-field encoder with the reflection
// one it replaced, on a typical model node.
func BenchmarkNodeJSON(b *testing.B) {
	db, rel, code := "big", `"big"."main"."m00001"`, "select id, amount from \"big\".\"main\".\"t1\"\nwhere created_at >= '2024-01-01'\n"
	n := &Node{Database: &db, Schema: "main", Name: "m00001", ResourceType: "model", PackageName: "big", Path: "staging/f000/m00001.sql",
		OriginalFilePath: "models/staging/f000/m00001.sql", UniqueID: "model.big.m00001", FQN: []string{"big", "staging", "f000", "m00001"},
		Alias: "m00001", Checksum: FileHash{Name: "sha256", Checksum: fmt.Sprintf("%064d", 1)},
		Config:  map[string]any{"materialized": "view", "enabled": true, "tags": []string{}, "meta": map[string]any{}, "persist_docs": map[string]any{}},
		Columns: map[string]*Column{"id": {Name: "id"}}, Description: "model 1", CreatedAt: 1795666242.5, RelationName: &rel,
		RawCode: code, DependsOn: DependsOn{Nodes: []string{"source.big.raw.t1"}, Macros: []string{"macro.big.cents"}},
		Sources: [][]string{{"raw", "t1"}}, CompiledCode: &code, Compiled: true}
	b.Run("fields", func(b *testing.B) {
		for b.Loop() {
			if _, err := n.MarshalJSON(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("reflection", func(b *testing.B) {
		for b.Loop() {
			if _, err := reflectNodeJSON(n); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// reflectRunResultJSON is RunResult.MarshalJSON as it was before the
// field-by-field encoder.
func reflectRunResultJSON(r RunResult) ([]byte, error) {
	type plain RunResult
	c := plain(r)
	fill(&c.Timing)
	if c.AdapterResponse == nil {
		c.AdapterResponse = map[string]any{}
	}
	return json.Marshal(c)
}

// TestRunResultJSONMatchesReflection holds RunResult.MarshalJSON to the
// bytes of encoding/json over its fields.
func TestRunResultJSONMatchesReflection(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	strs := []string{"", "ok", "a & b <c>", "line\nbreak \"q\" é \xff", "select 1"}
	pick := func() string { return strs[rng.IntN(len(strs))] }
	ptr := func() *string {
		if rng.IntN(3) == 0 {
			return nil
		}
		s := pick()
		return &s
	}
	for i := range 2000 {
		r := RunResult{Status: pick(), ThreadID: pick(), ExecutionTime: []float64{0, 0.0123, 12, 1e-9}[rng.IntN(4)],
			Message: ptr(), UniqueID: pick(), CompiledCode: ptr(), RelationName: ptr()}
		if rng.IntN(2) == 0 {
			r.Timing = []Timing{{Name: "compile", StartedAt: ptr(), CompletedAt: ptr()}, {Name: pick()}}
		} else if rng.IntN(2) == 0 {
			r.Timing = []Timing{}
		}
		if rng.IntN(2) == 0 {
			r.AdapterResponse = map[string]any{"_message": pick(), "rows_affected": rng.IntN(9), "code": nil}
		}
		if rng.IntN(2) == 0 {
			f := rng.IntN(5)
			r.Failures = &f
		}
		if rng.IntN(2) == 0 {
			b := rng.IntN(2) == 0
			r.Compiled = &b
		}
		if rng.IntN(4) == 0 {
			r.BatchResults = map[string]any{"successful": []any{}, "failed": []any{pick()}}
		}
		want, werr := reflectRunResultJSON(r)
		got, gerr := r.MarshalJSON()
		if (werr != nil) != (gerr != nil) || !bytes.Equal(got, want) {
			t.Fatalf("result %d: got %s (%v)\nwant %s (%v)", i, got, gerr, want, werr)
		}
	}
}
