package wrapper

import (
	"path/filepath"
	"strings"
)

// IsWrapperInvocation reports whether grove was started by Cargo as a
// RUSTC_WRAPPER: Cargo runs `grove <path-to-rustc> ARGS...`. A subcommand
// name never contains a path separator and never names rustc, so the two
// cannot be confused.
func IsWrapperInvocation(args []string) bool {
	if len(args) < 2 {
		return false
	}
	first := args[1]
	base := filepath.Base(first)
	return strings.ContainsRune(first, filepath.Separator) ||
		base == "rustc" || strings.HasPrefix(base, "rustc-") || strings.HasPrefix(base, "rustc.") ||
		base == "clippy-driver"
}
