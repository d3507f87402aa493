package postgres

import "github.com/dataopskit/dataops/airbyte"

// The source is available as airbyte.NewSource("postgres") once this
// package is imported.
func init() {
	airbyte.RegisterSource("postgres", func() airbyte.Source { return New() })
}
