package key

import (
	"strings"

	"github.com/grove-rs/grove/internal/rustc"
)

// Coverage instrumentation: the rule.
//
// A unit compiled with `-C instrument-coverage` (cargo llvm-cov, grcov,
// RUSTFLAGS="-C instrument-coverage") carries a coverage map
// (__llvm_covmap) that names its compilation dir and the absolute paths of
// its sources. LLVM stores those names zlib-compressed, where the scan for
// paths inside outputs (pin.go) never sees them, and llvm-cov reads them to
// find the sources it reports on: a binary served to another worktree would
// report on the first worktree's files (or on none, once that worktree is
// gone). So such a unit is always pinned to this tree's working dir and
// target dir (generated sources in OUT_DIR are named too); another worktree
// compiles its own, as plain cargo does.

// coverage reports whether args instrument the unit for coverage: the last
// `-C instrument-coverage[=v]` (or its unstable `-Z` spelling) wins, as in
// rustc, and only an explicit off value turns it off.
func coverage(args []string) bool {
	on := false
	for _, o := range rustc.SplitOptions(args) {
		if o.Flag != "-C" && o.Flag != "--codegen" && o.Flag != "-Z" {
			continue
		}
		k, v, hasValue := strings.Cut(o.Value, "=")
		if k != "instrument-coverage" {
			continue
		}
		switch strings.ToLower(v) {
		case "n", "no", "off", "false":
			on = false
		default:
			on = !hasValue || v != ""
		}
	}
	return on
}
