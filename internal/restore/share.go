package restore

import (
	"path/filepath"
	"slices"
	"strings"

	"github.com/grove-rs/grove/internal/rustc"
)

// # Which outputs share the store's inode
//
// This is the one home of the rule; the wrapper (what it links into the
// store, what a restore links back) and package seed (what it links from
// the donor) ask Shared. An output that shares an inode with the store (a
// hardlink; on a file system with reflinks every output is a private
// clone anyway, see store.Materialize) shares two things with every other
// tree linked to it: its bytes and its mtime. So an output may share only
// when nothing writes into it in place and nothing re-dates it, in any
// tree:
//
//   - rlib and rmeta: only rustc writes them, and it replaces them (a new
//     inode) rather than writing into them; nothing else opens them.
//   - a proc-macro's shared library: likewise only rustc writes (its
//     linker replaces the file) and only rustc loads it. Cargo uplifts it
//     into the target dir only when the user names the macro crate as a
//     root (`cargo build -p some_macro`), and nobody strips or installs a
//     proc-macro. Cargo does compare its mtime (fingerprint.rs
//     check_filesystem: it is the unit's only output, and a dependent
//     needs the whole library, not an rmeta), so it follows the mtime rule
//     of the package doc like an rlib: shared when the blob is new
//     enough, else a fresh private copy (rules 1 and 2). serde_derive's is
//     8.6 MB in every worktree.
//   - a build script's program, under every name Cargo and grove give it
//     (build_script_build-<hash>, Cargo's hardlink build-script-build, the
//     real program a trampoline runs): only Cargo runs it, from the build
//     dir; no user opens it. Behind a trampoline (package buildscript)
//     Cargo compares the trampoline's mtime, which grove writes fresh, and
//     never stats the real program, so that is linked whatever its mtime
//     (Target.Trampoline). Without one it follows the mtime rule.
//
// Never shared:
//
//   - every output of a unit that does not link (`cargo check`, clippy,
//     the metadata of `cargo doc`): Cargo itself re-dates them after rustc
//     returns (cargo 1.93+, compiler/mod.rs: "This mtime shift for .rmeta
//     is a workaround as rustc incremental build since
//     rust-lang/rust#114669 skips unnecessary rmeta generation"; every
//     output of a check unit gets the unit's invocation time). Through a
//     shared inode that would re-date the rmeta in every tree: another
//     tree's dependents would rebuild spuriously or, worse, a unit whose
//     dependency was rebuilt there would look newer than that dependency
//     and be taken as fresh.
//   - programs (bins, tests, examples, benches): Cargo uplifts a bin into
//     target/<profile>/ as a hardlink of the output, and users run, strip,
//     patchelf, sign or install what is there; GNU strip and objcopy write
//     a file with several links in place to keep the links. Such a write
//     must stay in its tree.
//   - cdylibs, dylibs and static libraries: uplifted (dylibs even as
//     dependencies) and meant for other tools, which strip, patch or
//     install them.
//   - dep-info, which is this tree's own text (restore writes it).
//
// Blobs stay owner-writable (store.blobMode), so a build without grove can
// replace a shared output; a write through a link anyway is caught by
// store.CheckBlob before the blob is served again.

// Kind is what a unit is, as far as sharing its outputs goes.
type Kind int

const (
	// KindLibrary: a library crate (lib, rlib, and any dylib, cdylib or
	// staticlib it also builds).
	KindLibrary Kind = iota
	// KindProcMacro: a proc-macro crate.
	KindProcMacro
	// KindBuildScript: a build script's compile.
	KindBuildScript
	// KindProgram: a bin, test harness, example or bench.
	KindProgram
	// KindCheck: a unit that does not link (emits metadata only), of any
	// crate type: Cargo re-dates its outputs.
	KindCheck
)

// BuildScriptPrefix starts the crate name Cargo gives a build script:
// build_script_<stem of its file>, so build_script_build for build.rs and
// build_script_main for typenum's `build = "build/main.rs"` (cargo's
// toml/targets.rs names the target build-script-<stem>).
const BuildScriptPrefix = "build_script_"

// IsBuildScript reports whether a compile is a build script's: its crate
// name has BuildScriptPrefix and Cargo did not set CARGO_BIN_NAME (binName),
// which it sets for every bin target, so a user's bin named
// build_script_x stays a program. Taking a program for a build script
// would put a trampoline where the user's program belongs.
func IsBuildScript(crateName, binName string) bool {
	return strings.HasPrefix(crateName, BuildScriptPrefix) && binName == ""
}

// KindOf classifies a unit from what rustc is asked: its crate name, its
// crate types (rustc's --crate-type; none for a test harness) and whether
// it links (--emit has link). Package seed, which has no invocation, passes
// what Cargo's metadata and the build dir say, buildScript from
// IsBuildScript or, in seed, from where Cargo put the unit.
func KindOf(buildScript bool, crateTypes []string, links bool) Kind {
	switch {
	case !links:
		return KindCheck
	case buildScript:
		return KindBuildScript
	case slices.Equal(crateTypes, []string{"proc-macro"}):
		return KindProcMacro
	case len(crateTypes) == 0 || slices.Contains(crateTypes, "bin"):
		return KindProgram
	}
	return KindLibrary
}

// KindOfInvocation is KindOf for a rustc invocation run in env, the
// environment Cargo gave it; nil is a program (shares nothing but rlib and
// rmeta).
func KindOfInvocation(inv *rustc.Invocation, env map[string]string) Kind {
	if inv == nil {
		return KindProgram
	}
	types := inv.CrateTypes
	if inv.Test {
		types = nil
	}
	return KindOf(IsBuildScript(inv.CrateName, env["CARGO_BIN_NAME"]), types, emitsLink(inv.Emit))
}

func emitsLink(emit []string) bool {
	return len(emit) == 0 || slices.Contains(emit, "link") // rustc's default is link
}

// Shared reports whether the output name of a unit of kind k may share its
// inode with the store: the rule above.
func Shared(k Kind, name string) bool {
	if strings.HasSuffix(name, ".d") {
		return false
	}
	switch k {
	case KindCheck:
		return false
	case KindBuildScript:
		return true
	case KindProcMacro:
		if ext := filepath.Ext(name); ext == ".so" || ext == ".dylib" {
			return true
		}
	}
	return rustc.IsLib(name)
}
