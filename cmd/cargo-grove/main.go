// Command cargo-grove lets grove run as a Cargo subcommand: `cargo grove
// stats` is `grove stats`. Cargo finds cargo-<name> on PATH and runs it
// with the subcommand name as its first argument (`cargo-grove grove
// stats`); this drops that name and runs grove's commands, grove-cli: the
// one next to this binary (all are installed together by `go install
// ./cmd/...`), else the one on PATH. (Not grove, which would only hand the
// command line on to grove-cli.)
package main

import (
	"fmt"
	"os"

	"github.com/grove-rs/grove/internal/launch"
)

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "grove" {
		args = args[1:]
	}
	err := launch.Exec(append([]string{launch.Wrapper}, args...))
	fmt.Fprintf(os.Stderr, "cargo-grove: %v\n", err)
	os.Exit(1)
}
