//go:build !unix

package transform

import "os"

// readSmallFile reads a whole file.
func readSmallFile(name string) ([]byte, error) { return os.ReadFile(name) }
