//go:build !unix

package airbyte

import "os/exec"

// ownProcessGroup does nothing where process groups are not available.
func ownProcessGroup(*exec.Cmd) {}

// killProcessGroup kills the connector process only: without process
// groups, what it started may survive it.
func killProcessGroup(cmd *exec.Cmd) error { return cmd.Process.Kill() }
