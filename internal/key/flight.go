package key

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/grove-rs/grove/internal/record"
)

// Single flight: the rule.
//
// When several builds miss one unit at once, one compiles and the others
// wait on a lock, then find its entry (store.LockKey). The lock must stand
// for "the same input set", or builds of different code wait on each other
// for a whole compile (4 worktrees, each with its own main: 0.5/1.1/1.6/2.1 s,
// one after the other, when the lock was the argument key). But the sources
// a compile reads are known only after it (dep-info), so the flight key
// approximates them before:
//
//	flight key = digest(argument key,
//	                    normalized path → content here, for
//	                    (a) every file named by a candidate already in the
//	                        manifest of this argument key (the union of their
//	                        paths; absent files count as absent), and
//	                    (b) every regular file under the directory of the
//	                        crate's root source file (src/ for src/lib.rs),
//	                        skipping target dirs (this tree's target root, any
//	                        dir holding CACHEDIR.TAG or .rustc_info.json) and
//	                        .git, at most MaxFlightFiles files in lexical order)
//
// Files under CARGO_HOME (registry and git sources) are left out: at one
// moment they are the same file for every tree, so they cannot tell two
// trees apart, and hashing a large registry crate's whole source dir on
// every miss would cost time for nothing. So are the files of a
// checksummed package, one whose manifest dir holds .cargo-checksum.json:
// a package of a directory source (Debian's /usr/share/cargo/registry) or
// of `cargo vendor`'s output. The checksum file's digest stands for them:
// it names the package's .crate checksum (and, where listed, every file's;
// Debian lists none), so another version has another key. A directory
// source outside the repository is one dir for every tree, like CARGO_HOME.
// Inside it (vendored), two trees whose copies differ only in a file the
// checksum file does not cover share a lock: one waits for the other's
// compile, then compiles its own (a wait, never a wrong result). Reading
// those sources was a tenth of a miss's own CPU on a corpus of Debian's
// packages.
//
// So two trees with the same files share a lock (N worktrees of one commit
// compile each unit once), and two trees that differ in any file the unit
// read before, or in any file next to its sources, do not wait on each
// other. It errs towards not waiting, which costs a duplicate compile and
// never correctness: the entry key, not the lock, decides what is served.
// It errs towards waiting only where a tree differs solely in a file this
// unit never read before and that lies outside its root dir (or beyond the
// bound), or only in a vendored file the checksum file does not cover: a
// first compile that include!s "../data.txt" in two trees that differ only
// there.
//
// The key depends on the manifest only through the union of candidate
// paths, which a new candidate rarely extends (its files are mostly the
// same paths as earlier candidates', or lie under the root dir already), so
// builds of the same code that compute the key before and after another
// tree's compile is saved still agree. And a build that computes it after
// the entry it waits for was saved looks up again once it holds the lock.
const MaxFlightFiles = 2000

// FlightKey returns the lock key of this unit (see the rule above), given
// the candidates of the manifest of its argument key.
func (u *Unit) FlightKey(cands []record.Candidate) string {
	return flightSum(string(u.ArgKey), u.flightFiles(cands))
}

// flightFiles collects normalized path → content digest ("-" when absent
// or unreadable).
func (u *Unit) flightFiles(cands []record.Candidate) map[string]string {
	files := map[string]string{}
	hash := func(abs string) string {
		d, _, err := u.Hasher.File(abs)
		if err != nil {
			return "-"
		}
		return d
	}
	shared := u.cargoHome()
	inShared := func(p string) bool {
		return shared != "" && strings.HasPrefix(p, shared+string(filepath.Separator))
	}
	pkg, sum := u.checksummedPackage()
	if sum != "" {
		files["checksum:"+u.Norm.Normalize(pkg)] = sum
		shared := inShared
		inShared = func(p string) bool { return shared(p) || within(p, pkg) }
	}
	if root := filepath.Dir(u.Abs(u.Inv.Input)); u.Inv.Input != "" && !inShared(root) {
		n := 0
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() {
				if p != root && u.skipFlightDir(p, d.Name()) {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() && d.Type()&fs.ModeSymlink == 0 {
				return nil
			}
			if n++; n > MaxFlightFiles {
				return filepath.SkipAll
			}
			files[u.Norm.Normalize(p)] = hash(p)
			return nil
		})
	}
	for _, c := range cands {
		for _, in := range c.Inputs {
			if _, ok := files[in.Path]; ok {
				continue
			}
			if p := u.Abs(u.Norm.Denormalize(in.Path)); !inShared(p) {
				files[in.Path] = hash(p)
			}
		}
	}
	return files
}

// checksumFile marks a package Cargo verifies file by file (a directory
// source's or a vendored package; see the rule above).
const checksumFile = ".cargo-checksum.json"

// checksummedPackage returns the unit's package dir and the digest of its
// checksum file, or sum "" when it has none (a workspace or path package,
// or one under CARGO_HOME, which the rule leaves out anyway).
func (u *Unit) checksummedPackage() (dir, sum string) {
	dir = u.Env["CARGO_MANIFEST_DIR"]
	if dir == "" {
		return "", ""
	}
	dir = u.Abs(dir)
	d, _, err := u.Hasher.File(filepath.Join(dir, checksumFile))
	if err != nil {
		return "", ""
	}
	return dir, d
}

// cargoHome is where Cargo keeps registry and git sources.
func (u *Unit) cargoHome() string {
	if h := u.Env["CARGO_HOME"]; h != "" {
		return filepath.Clean(h)
	}
	if h := u.Env["HOME"]; h != "" {
		return filepath.Join(h, ".cargo")
	}
	return ""
}

// skipFlightDir reports whether a directory under the root dir holds build
// outputs or git's data rather than sources.
func (u *Unit) skipFlightDir(p, name string) bool {
	if name == ".git" || p == u.TargetRoot {
		return true
	}
	for _, m := range targetMarkers {
		if _, err := os.Lstat(filepath.Join(p, m)); err == nil {
			return true
		}
	}
	return false
}

func flightSum(argKey string, files map[string]string) string {
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	cs := []Component{{"flight", argKey}}
	for _, p := range paths {
		cs = append(cs, Component{"file:" + p, files[p]})
	}
	return Sum(cs)
}
