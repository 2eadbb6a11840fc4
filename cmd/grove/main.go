// Command grove makes Cargo builds fast and cheap across the many git
// worktrees of one repository. See README.md.
//
// This binary is what Cargo runs once per compilation unit: invoked as a
// RUSTC_WRAPPER (`grove /path/to/rustc ARGS...`) it runs the compile
// cache, and as a build script's trampoline it runs the script's cache.
// That path is hot, so this binary links only what it needs and starts
// fast (no CLI library, no remote backends, no cgo). Every other command
// line (`grove init`, `grove stats`, …) runs grove-cli, installed beside
// it (package launch).
package main

import (
	"fmt"
	"os"

	"github.com/grove-rs/grove/internal/buildscript"
	"github.com/grove-rs/grove/internal/exitstatus"
	"github.com/grove-rs/grove/internal/launch"
	"github.com/grove-rs/grove/internal/wrapper"
)

func main() {
	if buildscript.IsCall(os.Args) {
		exitstatus.Exit(buildscript.Main(os.Args[1]))
	}
	if call, ok := wrapper.Detect(os.Args, launch.IsCommand); ok {
		exitstatus.Exit(call.Run())
	}
	err := launch.Exec(os.Args)
	fmt.Fprintf(os.Stderr, "grove: %v\n", err)
	os.Exit(1)
}
