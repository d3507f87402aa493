package selector

import (
	"fmt"
	"testing"
)

// benchGraph is a 10,000-model project in layers of 100: each model refs
// two models of the layer above, every fifth model has a test, and tags
// and folders vary.
func benchGraph() []Node {
	var nodes []Node
	for i := 0; i < 10000; i++ {
		id := fmt.Sprintf("model.big.m%05d", i)
		layer := i / 100
		var parents []string
		if layer > 0 {
			parents = []string{fmt.Sprintf("model.big.m%05d", (layer-1)*100+i%100), fmt.Sprintf("model.big.m%05d", (layer-1)*100+(i*7)%100)}
		}
		folder := fmt.Sprintf("layer%02d", layer)
		nodes = append(nodes, &Info{ID: id, Type: Model, NodeName: fmt.Sprintf("m%05d", i), Package: "big",
			FullName: []string{"big", folder, fmt.Sprintf("m%05d", i)}, Path: "models/" + folder + fmt.Sprintf("/m%05d.sql", i),
			TagList: []string{fmt.Sprintf("t%d", i%10)}, Conf: map[string]any{"materialized": []string{"view", "table"}[i%2]}, Parents: parents})
		if i%5 == 0 {
			nodes = append(nodes, &Info{ID: "test.big.unique_" + id, Type: Test, NodeName: "unique_" + id, Package: "big",
				FullName: []string{"big", folder, "unique_" + id}, Path: "models/" + folder + "/schema.yml", Parents: []string{id}, GenericTest: "unique"})
		}
	}
	return nodes
}

// BenchmarkSelect10k times selections on a 10,000-model graph; the
// baseline is NewGraph, building the graph they walk.
func BenchmarkSelect10k(b *testing.B) {
	nodes := benchGraph()
	b.Run("baseline-NewGraph", func(b *testing.B) {
		for b.Loop() {
			NewGraph(nodes)
		}
	})
	g := NewGraph(nodes)
	for _, sel := range []string{"*", "+m09950", "m00050+", "tag:t3,config.materialized:table", "path:models/layer5*", "big.layer42.*", "@m05000"} {
		b.Run(sel, func(b *testing.B) {
			for b.Loop() {
				if _, err := Select(g, Options{Select: []string{sel}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
