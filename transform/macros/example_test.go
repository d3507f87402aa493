package macros_test

import (
	"fmt"

	"github.com/dataopskit/dataops/transform/macros"
)

// The macro files of the dbt namespace, embedded in the binary.
func ExampleNames() {
	for _, name := range macros.Names() {
		fmt.Println(macros.Package, name)
	}
	// Output:
	// dbt aggregates.sql
	// dbt arrays.sql
	// dbt dates.sql
	// dbt generic_tests.sql
	// dbt relations.sql
	// dbt series.sql
	// dbt sets.sql
	// dbt strings.sql
	// dbt types.sql
}
