//go:build !linux || !cgo

package duckdb

import "errors"

var errNoRelease = errors.New("only on Linux")

func releaseMallocArenas() error { return errNoRelease }
func purgeAllocator() error      { return errNoRelease }
