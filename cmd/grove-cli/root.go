package main

import (
	"fmt"

	"github.com/grove-rs/grove/internal/cli"
	"github.com/spf13/cobra"
)

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "grove",
		Short: "Fast, cheap Cargo builds across many git worktrees",
		Long: `grove makes Rust/Cargo builds fast and cheap across the git worktrees of one
repository.

Default (cache) mode: grove is Cargo's rustc-wrapper. Every worktree keeps its
own target dir, every compilation unit is compiled once, stored once in a
content-addressed store, and restored into other worktrees by reflink or
hardlink.

Shared mode (grove init --shared): all worktrees share one target dir, as in
the original note. Simple, but builds in different worktrees block each other.`,
		Example: `  grove init              # cache mode for this repository
  cargo build             # now cached
  grove stats             # hits, misses, time saved
  grove init --shared     # or: one shared target dir for all worktrees
  grove status            # worktrees, target dirs, disk use`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &cli.UsageError{Err: fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())}
	})
	root.AddCommand(newVersionCmd(), newAgentCmd())
	for _, add := range []func() []*cobra.Command{sharedCmds, cacheCmds, benchCmds} {
		root.AddCommand(add()...)
	}
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print grove's version",
		Args:  cli.Args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(cmd.OutOrStdout(), "grove %s\n", version)
			return nil
		},
	}
}
