package staging_test

import (
	"fmt"
	"os"
	"testing"
)

// TestMain runs the test binary as TestTypedJSONLandsAsJSON's connector
// when DATAOPS_LINES_CONNECTOR names its lines, as TestKillAtRandomPoints's
// child when DATAOPS_KILL_CHILD names its warehouse, and as the tests
// otherwise.
func TestMain(m *testing.M) {
	if url := os.Getenv("DATAOPS_KILL_CHILD"); url != "" {
		if err := killChild(url); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if path := os.Getenv("DATAOPS_LINES_CONNECTOR"); path != "" {
		os.Exit(linesConnector(path))
	}
	os.Exit(m.Run())
}
