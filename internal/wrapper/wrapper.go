// Package wrapper is grove's RUSTC_WRAPPER flow.
package wrapper

import (
	"os"
	"os/exec"
)

// Main runs one rustc invocation and returns the exit code.
func Main(rustc string, args []string) int {
	cmd := exec.Command(rustc, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		return 1
	}
	return 0
}
