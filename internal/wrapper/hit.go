package wrapper

import (
	"github.com/grove-rs/grove/internal/key"

	"os"
	"time"

	"github.com/grove-rs/grove/internal/record"
	"github.com/grove-rs/grove/internal/restore"
)

// restore materializes entry into this tree and replays rustc's output.
func (w *wrapper) restore(u *key.Unit, e *record.Entry) (restore.Result, error) {
	var depMtime time.Time
	for _, p := range u.DepFiles {
		if fi, err := os.Stat(p); err == nil && fi.ModTime().After(depMtime) {
			depMtime = fi.ModTime()
		}
	}
	res, err := restore.Unit(w.st, u.Hasher, e, u.OutDir, u.Norm, depMtime)
	if err != nil {
		return res, err
	}
	// From here the outputs are in place: a failed write to Cargo's pipe
	// is Cargo's problem, not a reason to compile again.
	_ = restore.Replay(e, u.Norm, os.Stdout, os.Stderr)
	return res, nil
}
