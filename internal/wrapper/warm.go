package wrapper

import (
	"os"

	"github.com/grove-rs/grove/internal/incr"
	"github.com/grove-rs/grove/internal/key"
)

// warmAfterHit gives a restored workspace member this tree's incremental
// state in the background (GROVE_WARM_INCREMENTAL, on unless 0; package
// incr), unless the tree has it already.
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
		job := incr.Job{Unit: iu, Command: incr.Command{Rustc: u.Inv.Rustc, Cwd: u.Cwd, Args: u.Inv.Args, Env: incr.CargoEnv(os.Environ())}, Env: os.Environ()}
		err = job.Start(self)
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
		// For grove seed, which warms this unit in the worktrees it
		// fills from this one.
		if err := iu.SaveCommand(incr.Command{Rustc: u.Inv.Rustc, Cwd: u.Cwd, Args: u.Inv.Args, Env: incr.CargoEnv(os.Environ())}); err != nil {
			w.logf("record the compile for seeds: %v", err)
		}
	}
}
