package main

import "github.com/spf13/cobra"

// benchCmds returns the subcommands of this area; see root.go.
func benchCmds() []*cobra.Command { return nil }
