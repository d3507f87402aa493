package main

import (
	"os"
	"runtime/debug"
	"testing"
)

func TestTuneGCForDBT(t *testing.T) {
	t.Setenv("GOGC", "") // restored afterwards
	os.Unsetenv("GOGC")
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)

	tuneGCForDBT([]string{"dataops", "sync"})
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("sync changed GOGC to %d", got)
	}
	tuneGCForDBT([]string{"dataops", "build"})
	if got := debug.SetGCPercent(100); got != dbtGCPercent {
		t.Errorf("build: GOGC %d, want %d", got, dbtGCPercent)
	}
	t.Setenv("GOGC", "50")
	tuneGCForDBT([]string{"dataops", "parse"})
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("parse with GOGC set in the environment changed it to %d", got)
	}
}
