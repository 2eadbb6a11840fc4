package wrapper

import (
	"os"

	"github.com/grove-rs/grove/internal/incr"
	"github.com/grove-rs/grove/internal/key"
)

// warmAfterHit gives a restored workspace member this tree's incremental
// state in the background (GROVE_WARM_INCREMENTAL; package incr), unless
// the tree has it already.
func (w *wrapper) warmAfterHit(u *key.Unit) {
	if !w.cfg.Warm {
		return
	}
	iu, ok := incr.For(u.Inv, u.Cwd)
	if !ok || iu.Have() {
		return
	}
	self, err := os.Executable()
	if err == nil {
		err = incr.Start(iu, self, u.Inv.Rustc, u.Inv.Args, u.Cwd, os.Environ())
	}
	if err != nil {
		w.logf("warm incremental state: %v", err)
	}
}

// beforeCompile marks the state the compile makes, which cancels a
// pending background compile of the unit. (A running one cannot overlap:
// it holds Cargo's lock of this build dir.)
func (w *wrapper) beforeCompile(u *key.Unit) {
	if !w.cfg.Warm {
		return
	}
	if iu, ok := incr.For(u.Inv, u.Cwd); ok {
		if err := iu.Mark(); err != nil {
			w.logf("mark incremental state: %v", err)
		}
	}
}
