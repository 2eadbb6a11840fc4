package key

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/grove-rs/grove/internal/record"
	"github.com/grove-rs/grove/internal/rustc"
	"github.com/grove-rs/grove/internal/toolchain"
)

// Linking: the rule.
//
// Anything that links (bins, test harnesses, proc-macros, dylibs, cdylibs,
// build scripts) also reads what only the linker reads:
//   - the linker program and the system `ld` a cc driver runs, by content.
//     A linker that is a script (CARGO_TARGET_<TRIPLE>_LINKER pointing at a
//     shell wrapper) may read any file, e.g. a flags file next to it: its
//     inputs are unknown, so the unit is not cached;
//   - the linker a link argument makes the driver run instead (driverLinker):
//     `-fuse-ld=mold` (gold, lld, or a path) runs ld.mold, `--ld-path=P`
//     runs P, and a `-B dir` is searched before PATH, by content: an
//     upgraded mold links other bytes, and plain cargo in a fresh worktree
//     links with today's. Every file of that name in the -B dirs and on
//     PATH is keyed (which one the driver picks depends on its own search
//     order); one in the toolchain's gcc-ld dir (rustc passes it as -B) is
//     the toolchain's. One found nowhere there (only in the driver's own
//     dirs) is unknown, so the unit is not cached;
//   - files named in link arguments, whole (`-Tscript.ld`) or inside one
//     (`-Wl,--version-script=exports.map`), by content. A GNU ld script can
//     INPUT() or INCLUDE other files; those are reached only if they lie in
//     a native search dir (native.go) — README states it;
//   - every rlib of the dependency closure, by content, followed through
//     the lib record grove keeps for each rlib it stores: an rlib can change
//     (a rebuilt bundled C library) without changing the metadata its
//     dependents see, so the direct dependencies alone are not enough.
//     An rlib without a readable record (built without grove, or its record
//     lost, or corrupt) makes the unit uncacheable. It heals when any tree
//     next compiles or restores that rlib: the wrapper then writes the
//     record again (a missing or unreadable one). A corrupt record is also
//     dropped (record.Store does, for every kind). In a tree where the rlib
//     stays fresh, Cargo never asks grove for it again, so there the
//     binary stays uncacheable until another tree's build heals the record.
//
// A link argument that makes the linker write a file of its own (a map
// file: `-Wl,-Map=app.map`, the firmware crowd's favourite; a dependency
// file, an import library, an lld reproduce tarball, a save-temps dump)
// makes the unit uncacheable: a restore writes rustc's outputs only, so
// the second worktree would get no map file, or keep a stale one.

func (u *Unit) keyLink() error {
	id, script, err := toolchain.Linker(u.Hasher, u.Inv.Linker, u.Env["PATH"])
	if err != nil {
		return NotCacheable(err.Error())
	}
	if script {
		return NotCacheable("linker " + u.Inv.Linker + " is a script: what it reads is unknown")
	}
	u.Comps.Add("linker", id)
	if err := u.keyDriverLinker(); err != nil {
		return err
	}
	if opt := linkerWritesFile(u.Inv.LinkArgs); opt != "" {
		return NotCacheable("link argument " + opt + " makes the linker write a file")
	}
	for _, arg := range u.Inv.LinkArgs {
		// Files can hide inside an argument: -Tscript.ld,
		// -Wl,--version-script=exports.map.
		for _, a := range strings.FieldsFunc(arg, func(r rune) bool { return r == ',' || r == '=' }) {
			a = strings.TrimPrefix(strings.TrimPrefix(a, "-T"), "@")
			p := u.Abs(a)
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
				// An object or archive named here is keyed without its
				// debug sections, like those in search dirs.
				d, err := u.nativeDigest(p)
				if err != nil {
					return fmt.Errorf("link arg %s: %w", arg, err)
				}
				u.Comps.Add("link-arg-file", u.Norm.Normalize(a)+" "+d)
			}
		}
	}
	closure, err := u.linkClosure()
	if err != nil {
		return err
	}
	for _, c := range closure {
		u.Comps.Add("closure", c)
	}
	return nil
}

// LibRecord is what grove records for an rlib it stores: the file names of
// the libraries it was compiled against, which the closure walk follows.
func LibRecord(inv *rustc.Invocation) record.Lib {
	var lib record.Lib
	for _, e := range inv.Externs {
		if rustc.IsLib(e.Path) {
			lib.Externs = append(lib.Externs, filepath.Base(e.Path))
		}
	}
	return lib
}

// linkClosure follows the lib records from the direct rlib dependencies to
// every rlib the linker will read, and returns "name digest" for each, in
// name order.
func (u *Unit) linkClosure() ([]string, error) {
	var depDirs []string
	for _, sp := range u.Inv.SearchPaths {
		if sp.Kind == "dependency" || sp.Kind == "all" || sp.Kind == "crate" || sp.Kind == "" {
			depDirs = append(depDirs, u.Abs(sp.Path))
		}
	}
	find := func(name string) string {
		if r := rustc.RlibOf(name); r != "" {
			name = r
		} else {
			name += ".rlib"
		}
		for _, d := range depDirs {
			p := filepath.Join(d, name)
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
		return ""
	}
	seen := map[string]bool{}
	var queue, out []string
	for _, e := range u.Inv.Externs {
		if rustc.IsLib(e.Path) {
			queue = append(queue, rustc.RlibOf(u.Abs(e.Path)))
		}
	}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if seen[p] {
			continue
		}
		seen[p] = true
		d, _, err := u.Hasher.File(p)
		if err != nil {
			return nil, NotCacheable(fmt.Sprintf("link closure: %v", err))
		}
		out = append(out, filepath.Base(p)+" "+d)
		lib, err := record.New(u.records).Lib(record.Digest(d))
		switch {
		case record.IsMissing(err):
			return nil, NotCacheable("link closure: " + filepath.Base(p) + " has no lib record (built without grove, or its record was lost or dropped as corrupt)")
		case errors.Is(err, record.ErrCorrupt):
			return nil, NotCacheable("link closure: lib record of " + filepath.Base(p) + " is unreadable (rewritten when the rlib is next built or restored, in any tree)")
		case err != nil:
			return nil, fmt.Errorf("lib record %s: %w", d, err)
		}
		for _, name := range lib.Externs {
			dep := find(name)
			if dep == "" {
				return nil, NotCacheable("link closure: " + name + " not found in -L dependency dirs")
			}
			queue = append(queue, dep)
		}
	}
	sort.Strings(out)
	return out, nil
}

// linkerFileOpts are the linker (and cc driver) options that write a file
// besides the output.
var linkerFileOpts = map[string]bool{
	"Map": true, "out-implib": true, "dependency-file": true, "reproduce": true,
	"why-extract": true, "print-archive-stats": true, "save-temps": true, "pdb": true,
}

// linkerWritesFile returns the first link argument option, also inside
// -Wl,..., that writes a file (linkerFileOpts), or "".
func linkerWritesFile(args []string) string {
	for _, arg := range args {
		for _, tok := range strings.Split(strings.TrimPrefix(arg, "-Wl,"), ",") {
			if !strings.HasPrefix(tok, "-") {
				continue
			}
			name, _, _ := strings.Cut(strings.TrimLeft(tok, "-"), "=")
			if linkerFileOpts[name] {
				return tok
			}
		}
	}
	return ""
}

// keyDriverLinker keys the linker link arguments make the cc driver run
// (driverLinker): every file of its name in the -B dirs, COMPILER_PATH, the
// toolchain's gcc-ld dirs and PATH.
func (u *Unit) keyDriverLinker() error {
	prog, dirs, ok := driverLinker(u.Inv.LinkArgs)
	if !ok {
		return nil
	}
	var found []string
	add := func(p string) {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			if fi, err := os.Stat(real); err == nil && fi.Mode().IsRegular() {
				d, _, err := u.Hasher.File(real)
				if err != nil {
					d = "unreadable"
				}
				found = append(found, u.Norm.Normalize(p)+" "+d)
			}
		}
	}
	if strings.ContainsRune(prog, '/') {
		add(u.Abs(prog))
	} else {
		// gcc searches COMPILER_PATH with its -B dirs.
		for _, d := range append(dirs, filepath.SplitList(u.Env["COMPILER_PATH"])...) {
			if d != "" {
				add(filepath.Join(u.Abs(d), prog))
			}
		}
		if sys := u.Norm.Paths()[Sysroot]; sys != "" {
			if m, _ := filepath.Glob(filepath.Join(sys, "lib", "rustlib", "*", "bin", "gcc-ld", prog)); len(m) > 0 {
				found = append(found, "(toolchain) "+prog)
			}
		}
		for _, d := range filepath.SplitList(u.Env["PATH"]) {
			if d != "" {
				add(filepath.Join(u.Abs(d), prog))
			}
		}
	}
	if len(found) == 0 {
		return NotCacheable("linker " + prog + " chosen by link arguments is in no -B dir, toolchain dir or PATH dir")
	}
	u.Comps.Add("driver-linker", strings.Join(found, "\n"))
	return nil
}

// driverLinker returns the linker program a cc driver (gcc, clang) runs
// given these link arguments, and the -B dirs it searches before PATH, when
// the arguments choose one: the last `-fuse-ld=NAME` (ld.NAME, or NAME when
// it is a path), clang's `--ld-path=PATH`, or only -B dirs (where the
// driver looks for `ld` first). ok is false when they choose nothing: the
// driver runs the `ld` keyed with the linker.
func driverLinker(args []string) (prog string, dirs []string, ok bool) {
	prog = "ld"
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case strings.HasPrefix(a, "-fuse-ld="):
			name := strings.TrimPrefix(a, "-fuse-ld=")
			if strings.ContainsRune(name, '/') {
				prog = name
			} else {
				prog = "ld." + name
			}
			ok = true
		case strings.HasPrefix(a, "--ld-path="):
			prog = strings.TrimPrefix(a, "--ld-path=")
			ok = true
		case a == "-B" && i+1 < len(args):
			dirs = append(dirs, args[i+1])
			i++
			ok = true
		case strings.HasPrefix(a, "-B") && len(a) > 2:
			dirs = append(dirs, a[2:])
			ok = true
		}
	}
	return prog, dirs, ok
}
