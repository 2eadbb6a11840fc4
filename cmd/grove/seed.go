package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/grove-rs/grove/internal/cli"
	"github.com/grove-rs/grove/internal/seed"
	"github.com/spf13/cobra"
)

// hookScript is the post-checkout hook `grove seed --install-hook` writes:
// `git worktree add` runs post-checkout in the new worktree with the null
// commit as the previous HEAD, so every tool that makes worktrees gets them
// seeded. It never fails the checkout.
const hookScript = `#!/bin/sh
# grove: seed the target dir of a new worktree from a built one.
if [ "$1" = "0000000000000000000000000000000000000000" ] && command -v grove >/dev/null 2>&1; then
  grove seed --quiet || true
fi
exit 0
`

func newSeedCmd() *cobra.Command {
	var from string
	var dryRun, asJSON, quiet, installHook bool
	c := &cobra.Command{
		Use:   "seed [--from WORKTREE]",
		Short: "Fill a new worktree's target dir from a built worktree",
		Long: `Seed the empty build dir of this worktree from another worktree of the
repository that has been built (the most recently built one, or --from):
Cargo's fingerprints and build-script outputs of the registry and git
dependencies are copied with their mtimes, and their artifacts are
hardlinked. The first cargo build then finds those dependencies fresh and
only builds path packages (the workspace's own crates and path
dependencies), which the cache serves. Nothing of a path package is copied,
so a worktree is never handed another worktree's code. The target and build
dirs are Cargo's (cargo metadata), so build.build-dir and Cargo's per-unit
layout work.

--install-hook installs a git post-checkout hook that seeds every worktree
made by 'git worktree add', whatever tool runs it.`,
		Example: `  git worktree add ../feature && cd ../feature && grove seed
  grove seed --from ../main --dry-run
  grove seed --install-hook`,
		Args: cli.Args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if installHook {
				return installSeedHook(cmd)
			}
			res, err := seed.Seed(cmd.Context(), seed.Options{Dir: ".", Donor: from, DryRun: dryRun})
			if err != nil {
				if quiet && errors.Is(err, seed.ErrNothingToSeed) {
					return nil
				}
				return err
			}
			switch {
			case asJSON:
				return cli.WriteJSON(cmd.OutOrStdout(), res)
			case quiet:
				return nil
			}
			verb := "seeded"
			if res.DryRun {
				verb = "would seed"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s from %s (%s)\n", verb, res.BuildDir, res.Donor, strings.Join(res.Profiles, ", "))
			fmt.Fprintf(cmd.OutOrStdout(), "  %d dependency units; %d files linked (%s), %d copied (%s); %d units of path packages left to cargo\n",
				res.Units, res.Linked, cli.HumanBytes(res.LinkedBytes), res.Copied, cli.HumanBytes(res.CopiedBytes), res.SkippedUnits)
			return nil
		},
	}
	c.Flags().StringVar(&from, "from", "", "worktree to seed from (default: the most recently built)")
	c.Flags().BoolVar(&dryRun, "dry-run", false, "say what would be copied, change nothing")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.Flags().BoolVar(&quiet, "quiet", false, "print nothing; no donor is not an error (for hooks)")
	c.Flags().BoolVar(&installHook, "install-hook", false, "install a post-checkout hook that seeds new worktrees")
	return c
}

func installSeedHook(cmd *cobra.Command) error {
	out, err := exec.Command("git", "rev-parse", "--path-format=absolute", "--git-path", "hooks").Output()
	if err != nil {
		return fmt.Errorf("not inside a git repository: %w", err)
	}
	dir := strings.TrimSpace(string(out))
	path := filepath.Join(dir, "post-checkout")
	if b, err := os.ReadFile(path); err == nil {
		if strings.Contains(string(b), "grove seed") {
			fmt.Fprintf(cmd.OutOrStdout(), "%s already seeds new worktrees\n", path)
			return nil
		}
		return fmt.Errorf("%s exists; add this line to it: grove seed --quiet || true", path)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(path, []byte(hookScript), 0o755); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "installed %s: git worktree add now seeds new worktrees\n", path)
	return nil
}
