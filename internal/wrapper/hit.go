package wrapper

import (
	"os"
	"path/filepath"

	"github.com/grove-rs/grove/internal/atomicfile"
	"github.com/grove-rs/grove/internal/buildscript"

	"github.com/grove-rs/grove/internal/key"
	"github.com/grove-rs/grove/internal/record"
	"github.com/grove-rs/grove/internal/restore"
)

// restore materializes entry into this tree and replays rustc's output.
// Which outputs are shared and which mtimes they carry is restore's rule.
func (w *wrapper) restore(u *key.Unit, e *record.Entry) (restore.Result, error) {
	res, err := restore.Unit(w.st, e, restore.Target{
		Inv: u.Inv, Cwd: u.Cwd, OutDir: u.OutDir, Env: u.Env, Norm: u.Norm,
		Trampoline: w.trampolines(),
	})
	if err != nil {
		return res, err
	}
	for _, c := range res.Copied {
		u.NoteCopied(c.Path, c.Digest) // key/blobinode.go
	}
	if !w.installTrampoline(u) && w.trampolines() {
		// The program was linked for a trampoline that is not there:
		// Cargo compares the program itself now, so it gets the fresh
		// private copy a restore without trampolines writes.
		w.privatize(u)
	}
	// From here the outputs are in place: a failed write to Cargo's pipe
	// is Cargo's problem, not a reason to compile again.
	_ = restore.Replay(e, u.Norm, os.Stdout, os.Stderr)
	return res, nil
}

// trampolines reports whether this unit is a build script's compile whose
// program gets a trampoline (build-script runs are cached).
func (w *wrapper) trampolines() bool {
	return w.cfg.CacheBuildScripts && restore.IsBuildScript(w.inv.CrateName, os.Getenv("CARGO_BIN_NAME"))
}

// programPath is where rustc writes a build script's program.
func (w *wrapper) programPath(u *key.Unit) string {
	return filepath.Join(u.OutDir, w.inv.CrateName+w.inv.ExtraFilename)
}

// installTrampoline puts package buildscript's trampoline in place of a
// build script's binary (restored or compiled), when build-script runs are
// cached, and reports whether one is in place. A failure leaves the real
// binary in place: the run is then simply not cached.
func (w *wrapper) installTrampoline(u *key.Unit) bool {
	if !w.trampolines() {
		return false
	}
	self, err := os.Executable()
	if err != nil {
		w.logf("trampoline: %v", err)
		return false
	}
	if err := buildscript.Install(w.programPath(u), self); err != nil {
		w.logf("trampoline: %v", err)
		return false
	}
	return true
}

// privatize replaces the restored program, linked to its blob, with a
// private copy stamped now (restore rule 1), for when no trampoline could
// be put in front of it.
func (w *wrapper) privatize(u *key.Unit) {
	bin := w.programPath(u)
	fi, err := os.Stat(bin)
	if err == nil {
		err = atomicfile.Copy(bin, bin, fi.Mode().Perm())
	}
	if err != nil {
		w.logf("trampoline: private copy of %s: %v", bin, err)
	}
}
