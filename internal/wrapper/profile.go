package wrapper

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
)

// startProfile starts a CPU profile of this invocation into
// dir/<pid>.pprof (GROVE_CPUPROFILE) and returns what stops it. Off, it
// costs nothing: the wrapper's own time is what a hit is made of, and
// pprof over many invocations (`go tool pprof -top DIR/*.pprof`) is how to
// see where it goes. Any failure only loses the profile.
func startProfile(dir string) (stop func()) {
	if dir == "" {
		return func() {}
	}
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%d.pprof", os.Getpid())))
	if err != nil {
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
