// Package artifacts holds dbt's artifacts as Go types, with writers and
// readers: manifest.json (schema v12), run_results.json (v6), catalog.json
// (v1, from docs generate) and sources.json (v3, from source freshness).
// What it writes validates against dbt's published JSON schemas, so tools
// that read dbt's target/ directory read ours.
//
// The shortest use:
//
//	m := artifacts.NewManifest(artifacts.NewMetadata(artifacts.ManifestV12, invocationID))
//	m.Nodes["model.shop.orders"] = &artifacts.Node{ResourceType: "model", …}
//	m.BuildMaps()                      // parent_map, child_map, group_map
//	err := artifacts.WriteFile("target/manifest.json", m)
//	prev, err := artifacts.ReadManifest("prod-artifacts/manifest.json")
package artifacts
