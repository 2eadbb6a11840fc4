package main

import (
	"slices"
	"testing"

	"github.com/grove-rs/grove/internal/launch"
)

// grove tells a subcommand from a rustc wrapper's program by
// launch.Commands, without linking this CLI: the list must hold every
// command (and alias) of grove-cli, cobra's own included, and nothing
// else.
func TestLaunchKnowsEveryCommand(t *testing.T) {
	root := newRootCmd()
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	var names []string
	for _, c := range root.Commands() {
		names = append(names, c.Name())
		names = append(names, c.Aliases...)
	}
	for _, n := range names {
		if !launch.IsCommand(n) {
			t.Errorf("grove-cli has command %q; launch.Commands does not list it", n)
		}
	}
	for _, n := range launch.Commands {
		if !slices.Contains(names, n) {
			t.Errorf("launch.Commands lists %q; grove-cli has no such command", n)
		}
	}
}
