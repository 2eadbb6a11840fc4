package restore

import (
	"path/filepath"
	"slices"
	"strings"

	"github.com/grove-rs/grove/internal/rustc"
)

// SharedOutput reports whether output name of inv may share its inode with
// the store (a hardlink on a file system without reflinks): rlib and rmeta
// (Shareable), and the shared library of a proc-macro.
//
// A proc-macro's library stays in the build dir: Cargo never uplifts it
// into the target dir (it does uplift programs, cdylibs and dylibs, which a
// user strips, patches or installs in place), nothing but rustc loads it,
// and rustc's linker replaces it rather than writing into it (grove also
// unlinks outputs before a compile). So it is as safe to share as an rlib,
// and worth it: serde_derive's is 8.6 MB in every worktree.
//
// Sharing it is subject to the mtime rule like any shared output: Cargo
// compares a unit's newest output with its dependencies' (fingerprint's
// StaleDependency), and a proc-macro has no other output that could be
// made fresh in its place, so when the blob is older than the
// dependencies here, or the restore replaces an output, it is a fresh
// private copy (rules 1 and 2).
func SharedOutput(inv *rustc.Invocation, name string) bool {
	if Shareable(name) {
		return true
	}
	if inv == nil || !slices.Equal(inv.CrateTypes, []string{"proc-macro"}) {
		return false
	}
	ext := filepath.Ext(name)
	return strings.HasPrefix(name, "lib") && (ext == ".so" || ext == ".dylib")
}
