// Package cli holds the conventions every grove subcommand shares: exit
// codes, usage errors and machine-readable output.
package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes, as documented in the README.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// UsageError marks an error caused by how grove was called (bad flag,
// wrong arguments): it exits with ExitUsage instead of ExitFailure.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef returns a UsageError with a formatted message.
func Usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// ExitCode maps an error returned by a command to the process exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var u *UsageError
	if errors.As(err, &u) || IsUnknownCommand(err) {
		return ExitUsage
	}
	return ExitFailure
}

// WriteJSON writes v as indented JSON followed by a newline, the format of
// every --json flag.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// Print is the tail of every command with --json: v as JSON when asJSON,
// else the text form that text writes.
func Print(w io.Writer, asJSON bool, v any, text func(io.Writer)) error {
	if asJSON {
		return WriteJSON(w, v)
	}
	text(w)
	return nil
}

// Args wraps a cobra positional-argument validator so that its errors are
// usage errors (exit code 2). cobra.NoArgs calls a stray argument of a
// command without subcommands an "unknown command"; it is said to be an
// argument instead.
func Args(v func(cmd *cobra.Command, args []string) error) func(cmd *cobra.Command, args []string) error {
	return func(cmd *cobra.Command, args []string) error {
		err := v(cmd, args)
		if err == nil {
			return nil
		}
		if len(args) > 0 && IsUnknownCommand(err) && !cmd.HasAvailableSubCommands() {
			err = fmt.Errorf("unexpected argument %q: %s takes no arguments", args[0], cmd.CommandPath())
		}
		return &UsageError{Err: fmt.Errorf("%w (see '%s --help')", err, cmd.CommandPath())}
	}
}

// IsUnknownCommand reports whether err is cobra's "unknown command" error,
// which has no type of its own.
func IsUnknownCommand(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "unknown command ")
}

// HumanBytes formats n with binary units (1.5 GiB), as every command prints
// sizes.
func HumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
