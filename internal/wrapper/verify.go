package wrapper

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/grove-rs/grove/internal/record"
	"github.com/grove-rs/grove/internal/rustc"
)

// verify (GROVE_VERIFY=1) compiles a unit that was just served from the
// store into a scratch dir and compares the outputs byte for byte, the way
// Go's GODEBUG=goverifycache=1 does. A difference is a key bug (or a
// non-deterministic compile) and is written to GROVE_LOG and the event log.
func (w *wrapper) verify(u *unit, e *record.Entry) {
	scratch, err := os.MkdirTemp(u.targetRoot, ".grove-verify-")
	if err != nil {
		return
	}
	defer os.RemoveAll(scratch)
	var args []string
	for _, o := range rustc.SplitOptions(u.inv.Args) {
		switch {
		case o.Flag == "--out-dir":
			args = append(args, "--out-dir", scratch)
		case (o.Flag == "-C" || o.Flag == "--codegen") && strings.HasPrefix(o.Value, "incremental="):
			// scratch build, no incremental state
		case o.Flag == "":
			args = append(args, o.Value)
		case o.Value == "":
			args = append(args, o.Flag)
		default:
			args = append(args, o.Flag, o.Value)
		}
	}
	cmd := exec.Command(u.inv.Rustc, args...)
	if err := cmd.Run(); err != nil {
		w.ev.Reason = "verify: compile failed: " + err.Error()
		return
	}
	var bad []string
	for _, o := range e.Outputs {
		want, err1 := os.ReadFile(w.st.BlobPath(o.Digest))
		got, err2 := os.ReadFile(filepath.Join(scratch, o.Name))
		if err1 != nil || err2 != nil || !bytes.Equal(want, got) {
			bad = append(bad, o.Name)
		}
	}
	if len(bad) > 0 {
		w.ev.Reason = "verify: differs: " + strings.Join(bad, " ")
		w.logf("VERIFY MISMATCH %s: %s", u.inv.CrateName, strings.Join(bad, " "))
	} else {
		w.ev.Reason = "verify: identical"
	}
}
