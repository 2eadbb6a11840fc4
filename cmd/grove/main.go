// Command grove makes Cargo builds fast and cheap across the many git
// worktrees of one repository. See README.md.
//
// grove has two faces. Invoked by Cargo as a RUSTC_WRAPPER
// (`grove /path/to/rustc ARGS...`) it runs the compile cache; that path is
// hot, so it is detected before any CLI setup. Otherwise it is a CLI with
// subcommands. This package only wires the two together.
package main

import (
	"fmt"
	"os"

	"github.com/grove-rs/grove/internal/buildscript"
	"github.com/grove-rs/grove/internal/cli"
	"github.com/grove-rs/grove/internal/exitstatus"
	"github.com/grove-rs/grove/internal/wrapper"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if buildscript.IsCall(os.Args) {
		exitstatus.Exit(buildscript.Main(os.Args[1]))
	}
	if call, ok := wrapper.Detect(os.Args, isCommand); ok {
		exitstatus.Exit(call.Run())
	}
	root := newRootCmd()
	err := root.Execute()
	if err != nil {
		fmt.Fprintf(os.Stderr, "grove: %v\n", err)
	}
	os.Exit(cli.ExitCode(err))
}

// isCommand reports whether name is one of grove's subcommands (or cobra's
// help and completion), so a bare RUSTC_WORKSPACE_WRAPPER name is never
// mistaken for one.
func isCommand(name string) bool {
	if name == "help" || name == "completion" {
		return true
	}
	for _, c := range newRootCmd().Commands() {
		if c.Name() == name || c.HasAlias(name) {
			return true
		}
	}
	return false
}
