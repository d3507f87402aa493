package artifacts

import (
	"bytes"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the readers of the four artifacts:
// none may panic, and whatever decodes must encode again.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"metadata":{"dbt_schema_version":"https://schemas.getdbt.com/dbt/manifest/v12.json"},"nodes":{"model.a.b":{"resource_type":"model","config":{"post-hook":["x"]}}}}`))
	f.Add([]byte(`{"metadata":{"dbt_schema_version":"https://schemas.getdbt.com/dbt/run-results/v6.json"},"results":[{"status":"fail","failures":3,"unique_id":"t"}],"elapsed_time":1}`))
	f.Add([]byte(`{"metadata":{"dbt_schema_version":"https://schemas.getdbt.com/dbt/sources/v3.json"},"results":[{"unique_id":"s","status":"runtime error","error":7}]}`))
	f.Add([]byte(`{"metadata":{"dbt_schema_version":"https://schemas.getdbt.com/dbt/catalog/v1.json"},"nodes":{"m":{"metadata":{"type":"VIEW","schema":"s","name":"n"},"columns":{"a":{"type":"INT","index":1,"name":"a"}},"stats":{}}}}`))
	f.Add([]byte("{\n  \"metadata\": oops"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var m Manifest
		if decode("manifest.json", data, &m, "manifest", func() string { return m.Metadata.DBTSchemaVersion }) == nil {
			encodeOK(t, &m)
		}
		var r RunResults
		if decode("run_results.json", data, &r, "run-results", func() string { return r.Metadata.DBTSchemaVersion }) == nil {
			encodeOK(t, &r)
			_ = r.Statuses()
		}
		var c Catalog
		if decode("catalog.json", data, &c, "catalog", func() string { return c.Metadata.DBTSchemaVersion }) == nil {
			encodeOK(t, &c)
		}
		var s Sources
		if decode("sources.json", data, &s, "sources", func() string { return s.Metadata.DBTSchemaVersion }) == nil {
			encodeOK(t, &s)
		}
	})
}

func encodeOK(t *testing.T, v any) {
	t.Helper()
	var buf bytes.Buffer
	if err := Encode(&buf, v); err != nil {
		t.Fatalf("decoded artifact does not encode: %v", err)
	}
}
