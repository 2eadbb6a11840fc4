package wrapper

import (
	"os"

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
	// From here the outputs are in place: a failed write to Cargo's pipe
	// is Cargo's problem, not a reason to compile again.
	_ = restore.Replay(e, u.Norm, os.Stdout, os.Stderr)
	return res, nil
}
