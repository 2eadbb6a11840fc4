package wrapper

import (
	"os"
	"path/filepath"

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
	})
	if err != nil {
		return res, err
	}
	for _, c := range res.Copied {
		u.NoteCopied(c.Path, c.Digest) // key/blobinode.go
	}
	w.installTrampoline(u)
	// From here the outputs are in place: a failed write to Cargo's pipe
	// is Cargo's problem, not a reason to compile again.
	_ = restore.Replay(e, u.Norm, os.Stdout, os.Stderr)
	return res, nil
}

// installTrampoline puts package buildscript's trampoline in place of a
// build script's binary (restored or compiled), when build-script runs are
// cached. A failure leaves the real binary in place: the run is then
// simply not cached.
func (w *wrapper) installTrampoline(u *key.Unit) {
	if !w.cfg.CacheBuildScripts || w.inv.CrateName != "build_script_build" {
		return
	}
	self, err := os.Executable()
	if err != nil {
		w.logf("trampoline: %v", err)
		return
	}
	bin := filepath.Join(u.OutDir, w.inv.CrateName+w.inv.ExtraFilename)
	if err := buildscript.Install(bin, self); err != nil {
		w.logf("trampoline: %v", err)
	}
}
