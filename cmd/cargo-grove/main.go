// Command cargo-grove lets grove run as a Cargo subcommand: `cargo grove
// stats` is `grove stats`. Cargo finds cargo-<name> on PATH and runs it
// with the subcommand name as its first argument (`cargo-grove grove
// stats`); this drops that name and runs grove: the one next to this
// binary (both are installed together by `go install ./cmd/...`), else the
// one on PATH.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "grove" {
		args = args[1:]
	}
	grove, err := findGrove()
	if err != nil {
		fmt.Fprintf(os.Stderr, "cargo-grove: %v\n", err)
		os.Exit(1)
	}
	err = syscall.Exec(grove, append([]string{"grove"}, args...), os.Environ())
	fmt.Fprintf(os.Stderr, "cargo-grove: run %s: %v\n", grove, err)
	os.Exit(1)
}

// findGrove returns the grove binary installed beside this one, else the
// one on PATH.
func findGrove() (string, error) {
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), "grove")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	p, err := exec.LookPath("grove")
	if err != nil {
		return "", fmt.Errorf("grove is not installed beside cargo-grove nor on PATH (go install ./cmd/...)")
	}
	return p, nil
}
