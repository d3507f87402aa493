// Package version reports the version of this module as built: the value set
// at link time with -ldflags "-X github.com/dataopskit/dataops/internal/version.Version=v1.2.3",
// else the module version Go recorded in the binary, else "devel".
package version

import "runtime/debug"

// Version may be set at link time; when empty, String asks the build info.
var Version = ""

// String returns the version of the dataops module in this binary.
func String() string {
	if Version != "" {
		return Version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if bi.Main.Path == "github.com/dataopskit/dataops" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path == "github.com/dataopskit/dataops" {
			return d.Version
		}
	}
	return "devel"
}
