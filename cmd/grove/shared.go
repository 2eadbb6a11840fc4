package main

import "github.com/spf13/cobra"

// sharedCmds returns the subcommands of this area; see root.go.
func sharedCmds() []*cobra.Command { return nil }
