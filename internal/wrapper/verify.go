package wrapper

import (
	"github.com/grove-rs/grove/internal/key"

	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/grove-rs/grove/internal/arhash"
	"github.com/grove-rs/grove/internal/record"
	"github.com/grove-rs/grove/internal/rustc"
)

// verify (GROVE_VERIFY=1) compiles a unit that was just served from the
// store into a scratch dir and compares the outputs byte for byte, the way
// Go's GODEBUG=goverifycache=1 does. A difference is a key bug (or a
// non-deterministic compile) and is written to GROVE_LOG and the event log.
func (w *wrapper) verify(u *key.Unit, e *record.Entry) string {
	if e.Origin != u.Origin() {
		// Compiled in another worktree or target dir: the outputs differ
		// from a compile here in embedded paths (debug info, the source
		// map's working dir), by design; a byte comparison proves nothing.
		return "verify: skipped (compiled in another tree)"
	}
	scratch, err := os.MkdirTemp(u.TargetRoot, ".grove-verify-")
	if err != nil {
		return "verify: " + err.Error()
	}
	defer os.RemoveAll(scratch)
	var args []string
	for _, o := range rustc.SplitOptions(u.Inv.Args) {
		switch {
		case o.Flag == "--out-dir":
			args = append(args, "--out-dir", scratch)
		case (o.Flag == "-C" || o.Flag == "--codegen") && strings.HasPrefix(o.Value, "incremental="):
			// Incremental mode changes codegen partitioning, so keep it, but
			// start from empty state instead of touching the tree's.
			args = append(args, "-C", "incremental="+filepath.Join(scratch, "incr"))
		case o.Flag == "":
			args = append(args, o.Value)
		case o.Value == "":
			args = append(args, o.Flag)
		default:
			args = append(args, o.Flag, o.Value)
		}
	}
	cmd := exec.Command(u.Inv.Rustc, args...)
	if err := cmd.Run(); err != nil {
		return "verify: compile failed: " + err.Error()
	}
	var bad []string
	for _, o := range e.Outputs {
		want, err1 := os.ReadFile(w.st.BlobPath(o.Digest))
		got, err2 := os.ReadFile(filepath.Join(scratch, o.Name))
		if err1 != nil || err2 != nil || !sameOutput(want, got) {
			bad = append(bad, o.Name)
		}
	}
	if len(bad) > 0 {
		w.logf("VERIFY MISMATCH %s: %s", u.Inv.CrateName, strings.Join(bad, " "))
		return "verify: differs: " + strings.Join(bad, " ")
	}
	return "verify: identical"
}

// sameOutput compares two outputs; archives (rlibs) member by member,
// since incremental compiles name their object files per session: the
// names are paired by position and one side's names are replaced by the
// other's inside the members that mention them.
func sameOutput(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	ma, ok1 := arhash.MemberContents(a)
	mb, ok2 := arhash.MemberContents(b)
	if !ok1 || !ok2 || len(ma) != len(mb) {
		return false
	}
	for i := range ma {
		da := ma[i].Data
		for j := range ma {
			na, nb := ma[j].Name, mb[j].Name
			if na != nb && len(na) > 8 {
				da = bytes.ReplaceAll(da, []byte(na), []byte(nb))
			}
		}
		if !bytes.Equal(da, mb[i].Data) {
			return false
		}
	}
	return true
}
