package artifacts_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/dataopskit/dataops/transform/artifacts"
)

// Write a manifest with one model, then read it back as --state would.
func ExampleWriteFile() {
	dir, err := os.MkdirTemp("", "artifacts")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	m := artifacts.NewManifest(artifacts.NewMetadata(artifacts.ManifestV12, "0f6b4f7e-8c4a-4a4f-9b1e-3d2c1b0a9f8e"))
	m.Nodes["model.shop.orders"] = &artifacts.Node{
		ResourceType: "model", Name: "orders", PackageName: "shop", UniqueID: "model.shop.orders",
		Schema: "main", Alias: "orders", Path: "orders.sql", OriginalFilePath: "models/orders.sql",
		FQN: []string{"shop", "orders"}, Checksum: artifacts.FileHash{Name: "sha256", Checksum: "9f86d0"},
		Config: map[string]any{"materialized": "table"},
	}
	m.BuildMaps()
	path := filepath.Join(dir, "target", "manifest.json")
	if err := artifacts.WriteFile(path, m); err != nil {
		panic(err)
	}

	back, err := artifacts.ReadManifest(path)
	if err != nil {
		panic(err)
	}
	fmt.Println(back.Metadata.DBTSchemaVersion)
	fmt.Println(back.Nodes["model.shop.orders"].Config["materialized"], back.ParentMap["model.shop.orders"])
	// Output:
	// https://schemas.getdbt.com/dbt/manifest/v12.json
	// table []
}
