package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/grove-rs/grove/internal/agentd"
	"github.com/grove-rs/grove/internal/cli"
	"github.com/grove-rs/grove/internal/remote"
	"github.com/grove-rs/grove/internal/settings"
	"github.com/grove-rs/grove/internal/store"
)

// newAgentCmd is the remote cache's background agent (package agent). The
// wrapper starts it on demand; it is not meant to be run by hand.
func newAgentCmd() *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:    "agent",
		Short:  "Serve the remote cache to this user's builds (started by the wrapper)",
		Hidden: true,
		Args:   cli.Args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, ok, err := remote.ConfigFromEnv(os.Getenv)
			if err != nil {
				return err
			}
			if !ok {
				return errors.New("no remote configured (GROVE_REMOTE)")
			}
			idle := agentd.DefaultIdle
			if v := os.Getenv("GROVE_REMOTE_IDLE"); v != "" {
				if idle, err = time.ParseDuration(v); err != nil {
					return fmt.Errorf("GROVE_REMOTE_IDLE: %w", err)
				}
			}
			set := settings.FromEnv(os.Getenv)
			if dir == "" {
				dir = set.Dir
			}
			access, err := store.ParseAccess(set.Shared)
			if err != nil {
				return err
			}
			st, err := store.OpenAccess(dir, access)
			if err != nil {
				return err
			}
			return agentd.Serve(st, cfg, idle)
		},
	}
	c.Flags().StringVar(&dir, "store", "", "the store (default: GROVE_DIR)")
	return c
}
