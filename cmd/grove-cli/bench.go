package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/grove-rs/grove/internal/bench"
	"github.com/grove-rs/grove/internal/bench/progress"
	"github.com/grove-rs/grove/internal/bench/report"
	"github.com/grove-rs/grove/internal/cli"
	"github.com/grove-rs/grove/internal/launch"
	"github.com/spf13/cobra"
)

// benchCmds returns the subcommands of this area; see root.go.
func benchCmds() []*cobra.Command { return []*cobra.Command{newBenchCmd()} }

func newBenchCmd() *cobra.Command {
	var (
		repo, scenarios, strategies, out, from, to, minioBin string
		runs, parallel                                       int
		nextEdit, asJSON                                     bool
		latency                                              time.Duration
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure build strategies across worktrees, side by side",
		Long: `bench measures how long builds take across many git worktrees of one
repository, for each way of building (strategy) and each situation that
matters (scenario), and prints a table; results go to bench.json and
bench.svg (a bar chart) in the output directory.

It works in a throwaway clone of the repository and its worktrees only:
your worktrees, target dirs, grove store and caches are never touched.
Everything temporary is removed at the end, also on Ctrl-C.

Strategies: ` + strings.Join(bench.StrategyNames(), ", ") + `
  plain              every worktree has its own target/
  shared             one shared target dir (grove init --shared)
  sccache            sccache as rustc wrapper, private cache (skipped if not installed)
  grove              grove's cache mode, private store
  grove-seeded       grove plus 'grove seed' in each new worktree (once seeding exists)
  sccache-remote     sccache with its S3 backend (skipped if this sccache lacks S3)
  grove-remote       grove with GROVE_REMOTE: CI writes, the second machine reads
  grove-remote-down  grove with GROVE_REMOTE at an endpoint that refuses connections
The remote strategies use the bench's own MinIO (--minio, or minio on PATH) on
a loopback port, its data in the work dir, a fresh prefix per session.

Scenarios (run in this order, each from the state the previous left):
` + scenarioHelp() + `
Rounds alternate strategies, so drift in machine speed spreads evenly. A
cold build of a large workspace takes minutes: start with --runs 1 and a
few scenarios. See bench/README.md.`,
		Example: `  grove bench --runs 1 --scenarios cold,fresh-worktree --strategies plain,shared
  grove bench --repo ~/src/app --out /tmp/bench
  grove bench --scenarios next-commit --from v1.2.0 --to v1.3.0
  grove bench --scenarios next-commit --next-edit   # repository with one commit
  grove bench --json > bench.json`,
		Args: cli.Args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			scs, err := bench.ParseList("scenario", scenarios, bench.ScenarioNames())
			if err != nil {
				return cli.Usagef("%v", err)
			}
			sts, err := bench.ParseList("strategy", strategies, bench.StrategyNames())
			if err != nil {
				return cli.Usagef("%v", err)
			}
			if runs < 1 {
				return cli.Usagef("--runs must be at least 1")
			}
			if parallel < 1 {
				return cli.Usagef("--parallel must be at least 1")
			}
			self, err := launch.Find(launch.Wrapper)
			if err != nil {
				return fmt.Errorf("locating the grove binary: %w", err)
			}
			if out == "" {
				// Created by bench.Run once the repository checked out, so a
				// typo in --repo leaves nothing behind.
				out = filepath.Join(os.TempDir(), fmt.Sprintf("grove-bench-%s-%d", time.Now().Format("20060102-150405"), os.Getpid()))
			} else if out, err = filepath.Abs(out); err != nil {
				return err
			}

			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			line := progress.New(cmd.ErrOrStderr(), progress.IsTerminal(os.Stderr))
			finished := make(chan struct{})
			defer close(finished)
			go func() {
				select {
				case <-ctx.Done():
					// The first signal cleans up; a second one kills as usual.
					stop()
					line.Note("interrupted: stopping builds and removing temporary worktrees (again to abort at once)")
				case <-finished:
				}
			}()
			rep, runErr := bench.Run(ctx, bench.Options{
				Repo: repo, Runs: runs, Scenarios: scs, Strategies: sts, Out: out,
				Parallel: parallel, From: from, To: to, NextEdit: nextEdit, MinIO: minioBin, RemoteLatency: latency,
				Grove: self, GroveVersion: version, Progress: line, Log: cmd.ErrOrStderr(),
			})
			line.Close()
			if rep == nil {
				return runErr
			}
			jsonPath, svgPath, err := bench.WriteFiles(rep, out)
			if err != nil {
				return errors.Join(runErr, err)
			}
			if asJSON {
				err = cli.WriteJSON(cmd.OutOrStdout(), rep)
			} else {
				err = report.WriteTable(cmd.OutOrStdout(), rep.Summaries, bench.ScenarioTitles())
				for _, n := range rep.Notes {
					fmt.Fprintf(cmd.OutOrStdout(), "note: %s\n", n)
				}
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "grove bench: results in %s and %s\n", jsonPath, svgPath)
			if runErr != nil {
				if ctx.Err() != nil {
					return errors.New("interrupted; temporary worktrees removed, partial results written")
				}
				return runErr
			}
			if err != nil {
				return err
			}
			if n := rep.Failed(); n > 0 {
				return fmt.Errorf("%d measured steps failed (see the table)", n)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&repo, "repo", "", "directory of the Cargo workspace to measure (default: main worktree of the current repository)")
	f.IntVar(&runs, "runs", 3, "rounds; the table shows median, min and max")
	f.StringVar(&scenarios, "scenarios", "all", "comma-separated scenarios, or all")
	f.StringVar(&strategies, "strategies", "all", "comma-separated strategies, or all")
	f.StringVar(&out, "out", "", "directory for bench.json, bench.svg and the temporary work dir (default: a new temp dir)")
	f.IntVar(&parallel, "parallel", 2, "worktrees of the parallel and disk scenarios")
	f.StringVar(&from, "from", "", "start commit of next-commit (default: HEAD~1 of --to)")
	f.StringVar(&to, "to", "", "commit every scenario builds (default: HEAD)")
	f.BoolVar(&nextEdit, "next-edit", false, "next-commit goes to a synthetic commit that edits one source file (made in the throwaway clone)")
	f.StringVar(&minioBin, "minio", "", "MinIO server binary for the remote strategies (default: minio on PATH)")
	f.DurationVar(&latency, "remote-latency", 0, "one-way delay the bench's proxy adds between the remote strategies and MinIO (20ms: a 40 ms round trip, as netem delay 20ms on loopback)")
	f.BoolVar(&asJSON, "json", false, "print the raw results as JSON instead of the table")
	return cmd
}

func scenarioHelp() string {
	var b strings.Builder
	for _, s := range bench.ScenarioNames() {
		fmt.Fprintf(&b, "  %-15s %s\n", s, bench.ScenarioTitle(s))
	}
	return b.String()
}
