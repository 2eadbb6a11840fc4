package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/grove-rs/grove/internal/cli"
	"github.com/grove-rs/grove/internal/hook"
	"github.com/grove-rs/grove/internal/incr"
	"github.com/grove-rs/grove/internal/key"
	"github.com/grove-rs/grove/internal/launch"
	"github.com/grove-rs/grove/internal/seed"
	"github.com/grove-rs/grove/internal/settings"
	"github.com/spf13/cobra"
)

func newSeedCmd() *cobra.Command {
	var from string
	var dryRun, asJSON, quiet, installHook, inHook bool
	c := &cobra.Command{
		Use:   "seed [--from WORKTREE]",
		Short: "Fill a new worktree's target dir from a built worktree",
		Long: `Seed the empty build dir of this worktree from another worktree of the
repository that has been built (the most recently built one, or --from):
Cargo's fingerprints and build-script outputs of the registry and git
dependencies are copied with their mtimes, and their artifacts are
hardlinked. A unit of a path package (the workspace's own crates and path
dependencies) is copied only when everything it read has the same bytes
here, so a worktree is never handed another worktree's code; and any unit
only when it was built with the environment this build gets, as far as
grove keys it. The first cargo build then finds the copied units fresh and
builds the rest, which the cache serves. The target and build dirs are
Cargo's (cargo metadata), so build.build-dir and Cargo's per-unit layout
work. The seeded workspace members are then compiled once more in the
background, in this worktree, and replace the copies when all of them
compile before a build does (their debug info then names this worktree, as
plain cargo's would), so the first edit is incremental and reuses what
plain cargo reuses (GROVE_WARM_INCREMENTAL=0 turns that off).

--install-hook installs the git post-checkout hook that seeds every worktree
made by 'git worktree add', whatever tool runs it (grove init does so too).
A post-checkout hook already there is kept and runs first. The hook runs
'grove seed --hook', which prints one line and never fails: a worktree that
cannot be seeded (its donor is building, say) is built from the cache.`,
		Example: `  git worktree add ../feature && cd ../feature && grove seed
  grove seed --from ../main --dry-run
  grove seed --install-hook`,
		Args: cli.Args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if installHook {
				return installSeedHook(cmd)
			}
			res, err := seed.Seed(cmd.Context(), seed.Options{Dir: ".", Donor: from, DryRun: dryRun})
			warming := 0
			if err == nil {
				warming = startWarm(cmd, res)
			}
			if inHook {
				return reportHook(cmd, res, err)
			}
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
			fmt.Fprintf(cmd.OutOrStdout(), "  %d dependency units, %d units of path packages (same inputs here); %d files linked (%s), %d copied (%s); %d units of path packages left to cargo\n",
				res.Units, res.PathUnits, res.Linked, cli.HumanBytes(res.LinkedBytes), res.Copied, cli.HumanBytes(res.CopiedBytes), res.SkippedUnits)
			if warming > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "  %d units of path packages get this worktree's incremental state in the background (GROVE_WARM_INCREMENTAL=0 turns it off)\n", warming)
			}
			if res.NamingDonor > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "  %d units whose outputs name the donor's dirs left to cargo\n", res.NamingDonor)
			}
			return nil
		},
	}
	c.Flags().StringVar(&from, "from", "", "worktree to seed from (default: the most recently built)")
	c.Flags().BoolVar(&dryRun, "dry-run", false, "say what would be copied, change nothing")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.Flags().BoolVar(&quiet, "quiet", false, "print nothing; no donor is not an error (for hooks)")
	c.Flags().BoolVar(&installHook, "install-hook", false, "install a post-checkout hook that seeds new worktrees")
	c.Flags().BoolVar(&inHook, "hook", false, "as the post-checkout hook runs it: one line, never an error")
	c.Flags().MarkHidden("hook")
	return c
}

func installSeedHook(cmd *cobra.Command) error {
	path, changed, err := hook.Install(cmd.Context(), ".")
	if err != nil {
		return err
	}
	if !changed {
		fmt.Fprintf(cmd.OutOrStdout(), "%s already seeds new worktrees\n", path)
		return nil
	}
	fmt.Fprintf(cmd.OutOrStdout(), "installed %s: git worktree add now seeds new worktrees\n", path)
	return nil
}

// reportHook is seed's outcome as the post-checkout hook reports it: one
// line on stderr, and never an error, so a checkout never fails because
// of grove. A worktree that is not seeded builds through the cache.
func reportHook(cmd *cobra.Command, res *seed.Result, err error) error {
	w := cmd.ErrOrStderr()
	switch {
	case errors.Is(err, seed.ErrNothingToSeed):
		// The first worktree of a repository: nothing to say.
	case err != nil:
		msg := strings.ReplaceAll(err.Error(), "\n", " ")
		fmt.Fprintf(w, "grove: not seeded (%s); the first cargo build restores from the cache instead\n", msg)
	default:
		fmt.Fprintf(w, "grove: seeded %s from %s (%d dependency units)\n", res.BuildDir, res.Donor, res.Units)
	}
	return nil
}

// startWarm starts the background compiles that give the seeded members
// this worktree's incremental state (seed.Result.WarmBatches), unless
// warming is off; it returns how many members they compile. A batch that
// cannot start costs the first edit's speed only, so it is not an error.
func startWarm(cmd *cobra.Command, res *seed.Result) int {
	batches := res.WarmBatches()
	if len(batches) == 0 || !settings.FromEnv(os.Getenv).Warm {
		return 0
	}
	self, err := launch.Find(launch.Wrapper)
	if err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "grove: not warming the seeded members: %v\n", err)
		return 0
	}
	n := 0
	for _, b := range batches {
		// The environment seed compared the donor's with (what the
		// next build here gets), which the batch's compiles run with.
		if err := incr.StartBatch(b, self, key.SeedEnviron(os.Environ())); err != nil {
			fmt.Fprintf(cmd.ErrOrStderr(), "grove: not warming the seeded members: %v\n", err)
			continue
		}
		n += len(b.Jobs)
	}
	return n
}
