package gitwatch

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// A run's unit dir in Cargo's legacy layout (build/<pkg>-<hash>/, OUT_DIR
// is its out/) holds markName when the trampoline saw the run read no git
// (ran it, or replayed a run that read none): package seed hands such a
// run to a tree on another branch. The marker holds the mtime of the
// unit's invoked.timestamp, which Cargo writes before every run: a later
// run (by the trampoline, which removes the marker first, or by the real
// script after `grove off`) leaves it naming an older stamp, and then it
// says nothing.
const markName = "grove-read-no-git"

// unitDir is the run's unit dir, or "" when OUT_DIR is not its out/.
func unitDir(outDir string) string {
	if filepath.Base(outDir) != "out" {
		return ""
	}
	return filepath.Dir(outDir)
}

func invokedStamp(dir string) (string, bool) {
	fi, err := os.Stat(filepath.Join(dir, "invoked.timestamp"))
	if err != nil {
		return "", false
	}
	return strconv.FormatInt(fi.ModTime().UnixNano(), 10), true
}

// ClearMark removes the marker of the run into outDir, before anything of
// a new run happens.
func ClearMark(outDir string) {
	if d := unitDir(outDir); d != "" {
		_ = os.Remove(filepath.Join(d, markName))
	}
}

// MarkReadNoGit notes that the run into outDir read no git.
func MarkReadNoGit(outDir string) {
	d := unitDir(outDir)
	if d == "" {
		return
	}
	if stamp, ok := invokedStamp(d); ok {
		p := filepath.Join(d, markName)
		if os.WriteFile(p, []byte(stamp+"\n"), 0o644) != nil {
			return
		}
		// Dated as the run's stamp: the marker is no output, and a unit
		// dir's newest file is what seeding compares dependents with
		// (a fresh marker made a seeded run look newer than the units
		// built on it, and a tree seeded from this one rebuilt them).
		if fi, err := os.Stat(filepath.Join(d, "invoked.timestamp")); err == nil {
			_ = os.Chtimes(p, fi.ModTime(), fi.ModTime())
		}
	}
}

// ReadNoGit reports whether the last run in the unit dir dir read no git.
func ReadNoGit(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, markName))
	if err != nil {
		return false
	}
	stamp, ok := invokedStamp(dir)
	return ok && strings.TrimSpace(string(b)) == stamp
}

// CopyMark writes into the unit dir dst, a copy of the unit dir src whose
// invoked.timestamp has been stamped anew, the marker src holds.
func CopyMark(src, dst string) {
	if ReadNoGit(src) {
		MarkReadNoGit(filepath.Join(dst, "out"))
	}
}
