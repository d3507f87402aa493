package file

import "github.com/dataopskit/dataops/airbyte"

// The source is available as airbyte.NewSource("file") once this package
// is imported.
func init() {
	airbyte.RegisterSource("file", func() airbyte.Source { return New() })
}
