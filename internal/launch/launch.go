// Package launch connects grove's two binaries. `grove` is what Cargo runs
// once per compilation unit (the rustc wrapper, the build-script
// trampoline), so it is kept small and quick to start; every other command
// line (`grove init`, `grove stats`, …) it hands to `grove-cli`, the whole
// CLI, installed beside it. Users keep typing `grove`.
package launch

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

// Names of the two binaries.
const (
	Wrapper = "grove"
	CLI     = "grove-cli"
)

// Commands are grove-cli's subcommands and cobra's own (help,
// completion). The wrapper must know them without linking the CLI: a
// first argument that is one of them is never taken for a rustc wrapper's
// program (wrapper.Detect). A test checks the list against grove-cli.
var Commands = [...]string{
	"agent", "bench", "clean", "completion", "config", "doctor", "explain",
	"help", "init", "off", "reclaim", "seed", "stats", "status", "verify",
	"version",
}

// IsCommand reports whether name is one of Commands.
func IsCommand(name string) bool {
	for _, c := range Commands {
		if c == name {
			return true
		}
	}
	return false
}

// Find returns the path of the binary name (Wrapper or CLI): the one
// beside this executable first, so a grove and its grove-cli installed
// together stay together, else the one on PATH.
func Find(name string) (string, error) {
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s is not installed beside %s nor on PATH (go install ./cmd/...)", name, exeName())
	}
	return p, nil
}

func exeName() string {
	if self, err := os.Executable(); err == nil {
		return self
	}
	return Wrapper
}

// Exec replaces this process with grove-cli, given args (os.Args; argv[0]
// stays "grove", the name the user typed). It returns only on failure.
func Exec(args []string) error {
	p, err := Find(CLI)
	if err != nil {
		return err
	}
	argv := append([]string{Wrapper}, args[1:]...)
	err = syscall.Exec(p, argv, os.Environ())
	return fmt.Errorf("run %s: %w", p, err)
}
