// Command grove-cli is grove's command line: `grove init`, `grove stats`
// and the rest. Users type `grove`; the small grove binary, which Cargo
// runs per compilation unit, hands every command line that is not a
// compile to this one (package launch). It also runs the remote cache's
// agent (`grove-cli agent`, package agentd) and the benchmark. This
// package only wires the subcommands together.
package main

import (
	"fmt"
	"os"

	"github.com/grove-rs/grove/internal/cli"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	root := newRootCmd()
	err := root.Execute()
	if err != nil {
		fmt.Fprintf(os.Stderr, "grove: %v\n", err)
	}
	os.Exit(cli.ExitCode(err))
}
