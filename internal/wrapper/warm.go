package wrapper

import (
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/grove-rs/grove/internal/filehash"
	"github.com/grove-rs/grove/internal/record"
	"github.com/grove-rs/grove/internal/rustc"

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

// recordLib writes the lib record of an rlib a warm batch made this
// tree's (incr.RunBatch), so that binaries linking it stay cacheable
// (key/link.go).
func (w *wrapper) recordLib(inv *rustc.Invocation, cwd string) {
	names, err := inv.OutputNames()
	if err != nil {
		return
	}
	for _, n := range names {
		if !strings.HasSuffix(n, ".rlib") {
			continue
		}
		if w.rec == (record.Store{}) {
			if err := w.openStore(); err != nil {
				w.logf("warm batch: %v (no lib record)", err)
				return
			}
		}
		p := n
		if dir := inv.OutDir; filepath.IsAbs(dir) {
			p = filepath.Join(dir, n)
		} else {
			p = filepath.Join(cwd, dir, n)
		}
		d, err := digestFile(p)
		if err == nil {
			err = w.rec.PutLib(record.Digest(d), key.LibRecord(inv))
		}
		if err != nil {
			w.logf("warm batch: lib record of %s: %v", n, err)
		}
	}
}

func digestFile(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	d := filehash.NewDigester()
	if _, err := io.Copy(d, f); err != nil {
		return "", err
	}
	return d.Digest(), nil
}
