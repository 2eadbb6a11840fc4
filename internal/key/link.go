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

func (u *Unit) keyLink() error {
	id, script, err := toolchain.Linker(u.Hasher, u.Inv.Linker, u.Env["PATH"])
	if err != nil {
		return NotCacheable(err.Error())
	}
	if script {
		return NotCacheable("linker " + u.Inv.Linker + " is a script: what it reads is unknown")
	}
	u.Comps.Add("linker", id)
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
		if strings.HasSuffix(e.Path, ".rlib") || strings.HasSuffix(e.Path, ".rmeta") {
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
		name = strings.TrimSuffix(name, ".rmeta")
		if !strings.HasSuffix(name, ".rlib") {
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
		if strings.HasSuffix(e.Path, ".rlib") || strings.HasSuffix(e.Path, ".rmeta") {
			p := u.Abs(e.Path)
			if strings.HasSuffix(p, ".rmeta") {
				p = strings.TrimSuffix(p, ".rmeta") + ".rlib"
			}
			queue = append(queue, p)
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
