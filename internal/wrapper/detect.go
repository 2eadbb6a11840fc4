package wrapper

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/grove-rs/grove/internal/rustc"
	"github.com/grove-rs/grove/internal/settings"
	"github.com/grove-rs/grove/internal/stats"
)

// Call is how Cargo started grove as its RUSTC_WRAPPER:
//
//	grove RUSTC ARGS...                    (RUSTC_WRAPPER only)
//	grove WORKSPACE_WRAPPER RUSTC ARGS...  (RUSTC_WORKSPACE_WRAPPER set too,
//	                                        for workspace members only)
type Call struct {
	Workspace string // RUSTC_WORKSPACE_WRAPPER as Cargo passed it, or ""
	Rustc     string
	Args      []string
}

// Detect reports whether args (os.Args) are a wrapper call rather than a
// CLI command line, and which.
//
// Cargo always passes rustc's options before its input, so rustc's first
// argument starts with '-': a word after grove that is followed by a
// program (a path, or a name like rustc's) is a workspace wrapper. A grove
// subcommand name never contains a path separator and never names rustc,
// so the forms cannot be confused; isCommand tells a bare workspace wrapper
// (or RUSTC) name from a subcommand (`grove bench /repo`, `grove stats
// --json`), and is only called in those rare cases, off the hot path.
func Detect(args []string, isCommand func(string) bool) (Call, bool) {
	if len(args) < 2 {
		return Call{}, false
	}
	first := args[1]
	if len(args) >= 3 && isProgram(args[2]) &&
		(hasSep(first) || !strings.HasPrefix(first, "-") && !isCommand(first)) {
		return Call{Workspace: first, Rustc: args[2], Args: args[3:]}, true
	}
	if hasSep(first) || isRustcName(filepath.Base(first)) || filepath.Base(first) == "clippy-driver" {
		return Call{Rustc: first, Args: args[2:]}, true
	}
	// RUSTC set to another bare name found on PATH (a script of the user's):
	// followed by rustc's options, and neither a subcommand nor a typo of
	// one (a typo is not a program on PATH).
	if len(args) >= 3 && strings.HasPrefix(args[2], "-") && !strings.HasPrefix(first, "-") && !isCommand(first) {
		if _, err := exec.LookPath(first); err == nil {
			return Call{Rustc: first, Args: args[2:]}, true
		}
	}
	return Call{}, false
}

func hasSep(s string) bool { return strings.ContainsRune(s, filepath.Separator) }

func isRustcName(base string) bool {
	return base == "rustc" || strings.HasPrefix(base, "rustc-") || strings.HasPrefix(base, "rustc.")
}

// isProgram reports whether a rustc argument position holds a program
// instead: a path, or a bare rustc name (RUSTC=rustc).
func isProgram(s string) bool {
	return s != "" && !strings.HasPrefix(s, "-") && (hasSep(s) || isRustcName(filepath.Base(s)) && !strings.HasSuffix(s, ".rs"))
}

// Run runs the call and returns the status for the process (package
// exitstatus).
func (c Call) Run() int {
	if c.Workspace == "" {
		return Main(c.Rustc, c.Args)
	}
	return mainWorkspace(c)
}

// mainWorkspace runs `WORKSPACE_WRAPPER RUSTC ARGS` exactly as given,
// uncached. A workspace wrapper may change what a compile produces or
// does: clippy-driver adds lints, `cargo fix` (which names cargo itself as
// the workspace wrapper) rewrites the sources and compiles again, a user's
// script may add flags grove never sees. None of that is in the key, so
// serving or storing such a unit could hand out a result plain cargo would
// not give. Units of packages outside the workspace are called without it
// and stay cached.
func mainWorkspace(c Call) int {
	w := &wrapper{
		start: time.Now(),
		cfg:   settings.FromEnv(os.Getenv),
		inv:   rustc.Parse(c.Rustc, c.Args),
	}
	if !w.cfg.Disable {
		w.ev = stats.Event{Build: os.Getppid(), Crate: w.inv.CrateName}
		if w.ev.Dir, _ = os.Getwd(); w.ev.Dir == "" {
			w.ev.Dir = "?"
		}
		w.finish(stats.Uncacheable, "workspace wrapper "+filepath.Base(c.Workspace))
	}
	w.inv = &rustc.Invocation{Rustc: c.Workspace, Args: append([]string{c.Rustc}, c.Args...)}
	return w.execRustc()
}
