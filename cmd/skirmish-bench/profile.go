package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// startCPUProfile profiles this process into path until stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// writeProfile writes the named runtime profile to file, if file is set.
func writeProfile(name, file string) error {
	if file == "" {
		return nil
	}
	pf, err := os.Create(file)
	if err != nil {
		return fmt.Errorf("%s profile: %w", name, err)
	}
	if name == "heap" {
		runtime.GC() // the heap profile shows the live heap as of the last GC
	}
	if err := pprof.Lookup(name).WriteTo(pf, 0); err != nil {
		pf.Close()
		return fmt.Errorf("write %s profile: %w", name, err)
	}
	return pf.Close()
}
