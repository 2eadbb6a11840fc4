package key

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/grove-rs/grove/internal/atomicfile"
)

// Build-script runs: writes into the target dir outside OUT_DIR (rule in
// buildrun.go).
//
// A replay writes only OUT_DIR. A script that also writes next to it, in
// the dirs between OUT_DIR and the target dir's root (a header for C
// callers in target/debug, a shared library copied beside the binary so
// that it loads, a file in the target dir's root), leaves that file in
// every tree plain cargo builds, and in no tree grove replays into. So
// such a run is not stored. grove cannot see every write a process makes;
// it compares those dirs' entries, one level each, before and after the
// run. A difference counts unless Cargo makes it while the script runs:
// the unit dirs and deps of other units (new dirs below the profile dir),
// an uplifted artifact (a hard link of a deps/ file, so more than one
// link), a dep-info file (.d), and Cargo's own files of a unit dir
// (invoked.timestamp, output, root-output, stderr) and of the target dir
// (.cargo-lock, CACHEDIR.TAG, .rustc_info.json, the incompat report),
// nor grove's own: the tree's dirs cache a miss of a compile running
// beside the script in the same target dir writes in its root
// (WatchDirsCache), and the temp files of atomic writes (named
// atomicfile.TempPrefix*). A
// script that writes deeper into a dir that existed before (target/debug/
// deps/x) or makes a new dir in the target root or below the build dir
// is not seen: known residue.

// dirEntryState is what a snapshot keeps of one entry.
type dirEntryState struct {
	dir   bool
	size  int64
	mtime int64
	ino   uint64
	links uint64
}

// cargoDirs are the dirs Cargo makes inside a profile dir.
var cargoDirs = map[string]bool{"build": true, "deps": true, ".fingerprint": true, "incremental": true, "examples": true}

// cargoFiles are files Cargo writes in the dirs a snapshot covers.
var cargoFiles = map[string]bool{
	"invoked.timestamp": true, "output": true, "root-output": true, "stderr": true,
	".cargo-lock": true, "CACHEDIR.TAG": true, ".rustc_info.json": true, ".future-incompat-report.json": true,
}

// writeScope lists the dirs from OUT_DIR's parent up to the target root.
func (r *BuildRun) writeScope() []string {
	root := r.Norm.Paths()[Target]
	var dirs []string
	for d := filepath.Dir(r.OutDir); root != "" && within(d, root); d = filepath.Dir(d) {
		dirs = append(dirs, d)
		if d == root {
			break
		}
	}
	return dirs
}

// snapshotScope records the entries of every dir of the write scope.
func (r *BuildRun) snapshotScope() map[string]dirEntryState {
	snap := map[string]dirEntryState{}
	for _, d := range r.writeScope() {
		ents, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range ents {
			p := filepath.Join(d, e.Name())
			fi, err := os.Lstat(p)
			if err != nil {
				continue
			}
			s := dirEntryState{dir: fi.IsDir(), size: fi.Size(), mtime: fi.ModTime().UnixNano()}
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				s.ino, s.links = uint64(st.Ino), uint64(st.Nlink)
			}
			snap[p] = s
		}
	}
	return snap
}

// WroteOutsideOutDir returns a path of the write scope that the run made
// or changed and Cargo would not have, or "" (see the rule).
func (r *BuildRun) WroteOutsideOutDir() string {
	after := r.snapshotScope()
	root := r.Norm.Paths()[Target]
	for p, s := range after {
		if p == r.OutDir {
			continue
		}
		if old, ok := r.scope[p]; ok && old == s {
			continue
		}
		name := filepath.Base(p)
		switch {
		case s.dir:
			// Cargo's units' dirs; a new dir beside Cargo's own in a
			// profile dir is the script's.
			_, isProfile := after[filepath.Join(filepath.Dir(p), "build")]
			if _, existed := r.scope[p]; !existed && isProfile && !cargoDirs[name] {
				return p
			}
		case cargoFiles[name], strings.HasSuffix(name, ".d"), s.links > 1,
			strings.HasPrefix(name, treeDirsPrefix) && filepath.Dir(p) == root,
			strings.HasPrefix(name, atomicfile.TempPrefix):
		default:
			return p
		}
	}
	return ""
}
