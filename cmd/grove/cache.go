package main

import "github.com/spf13/cobra"

// cacheCmds returns the subcommands of this area; see root.go.
func cacheCmds() []*cobra.Command { return nil }
