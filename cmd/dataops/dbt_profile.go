package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// stopProfiles ends the profiles a dbt verb's --cpuprofile / --memprofile
// started; dbtFinish calls it once the verb is done.
var stopProfiles = func() {}

// startProfiles starts the CPU profile and arranges the heap profile that
// the hidden --cpuprofile and --memprofile flags ask for (the profiles of
// the whole verb: load, compile, artifacts), to be read with go tool pprof.
func startProfiles(cpuFile, memFile string) error {
	stopProfiles()
	var stops []func()
	if cpuFile != "" {
		f, err := os.Create(cpuFile)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
	}
	if memFile != "" {
		stops = append(stops, func() {
			f, err := os.Create(memFile)
			if err != nil {
				fmt.Fprintln(os.Stderr, "dataops: --memprofile:", err)
				return
			}
			defer f.Close()
			runtime.GC()
			if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
				fmt.Fprintln(os.Stderr, "dataops: --memprofile:", err)
			}
		})
	}
	stopProfiles = func() {
		stopProfiles = func() {}
		for _, stop := range stops {
			stop()
		}
	}
	return nil
}
