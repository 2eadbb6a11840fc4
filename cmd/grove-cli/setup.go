package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/grove-rs/grove/internal/cli"
	"github.com/grove-rs/grove/internal/hook"
	"github.com/grove-rs/grove/internal/settings"
	"github.com/grove-rs/grove/internal/setup"
	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
)

// sharedCmds returns the setup commands: init, off, status, reclaim,
// doctor. The work is done by internal/setup; these only parse flags and
// print.
func sharedCmds() []*cobra.Command {
	return []*cobra.Command{newInitCmd(), newOffCmd(), newStatusCmd(), newReclaimCmd(), newDoctorCmd()}
}

// openRepo opens the repository containing dir (the -C flag, default the
// working directory).
func openRepo(cmd *cobra.Command, dir string) (*setup.Repo, error) {
	if dir == "" {
		dir = "."
	}
	r, err := setup.Open(cmd.Context(), dir, os.Getenv)
	if err != nil {
		return nil, err
	}
	r.LookupEnv = os.LookupEnv
	r.StoreDir = settings.FromEnv(buildEnv(dir)).Dir
	return r, nil
}

func addDirFlag(c *cobra.Command, dir *string) {
	c.Flags().StringVarP(dir, "dir", "C", "", "run as if started in `DIR` (default: the current directory)")
}

func newInitCmd() *cobra.Command {
	var dir string
	var sharedMode, all, user, asJSON, noHook bool
	c := &cobra.Command{
		Use:   "init [--shared [--all] | --user] [--no-hook]",
		Short: "Set up grove for this repository (cache mode, or --shared)",
		Long: `Set up grove for the repository that contains the current directory.

Without flags, turns on cache mode: build.rustc-wrapper = "grove" in the
.cargo/config.toml of the worktree it runs in (each worktree reads its own;
one inside the main worktree also reads the main one's). The value is a bare
name that Cargo looks up on PATH, so the file may be committed — but then
every clone and CI job that builds the repository needs grove on PATH.
--user writes it to $CARGO_HOME/config.toml instead, for every repository
of this user only.

Cache mode also installs a git post-checkout hook that seeds every new
worktree from a built one (grove seed), whatever tool runs 'git worktree
add'. A post-checkout hook already there is kept and runs first; grove off
puts it back. --no-hook skips the hook.

With --shared, sets up one target dir for all worktrees (the shared mode):
.shared-target/ goes into .gitignore, and build.target-dir = "<root>/.shared-target"
into the root's .cargo/config.toml, kept out of git because the path only
works on this machine (a committed config: see below). Cargo only reads config
files in the build directory and its parents, so a worktree outside the root
does not see that config. --all writes the same setting into each such worktree
(only where the file is untracked). grove init lists which worktrees are
covered.

Every other key, table and comment in the config stays byte for byte. Running
init again changes nothing. Switching between the modes removes the other mode's
key. A value init replaces (rustc-wrapper = "sccache", a target-dir) is kept in a
comment on the key's line, and grove off puts it back. If a check fails, init
writes nothing.

With a committed .cargo/config.toml, --shared leaves it alone: the main
worktree's own target dir becomes the shared dir, and the worktrees find it
through uncommitted configs in the directories that hold them (worktrees/,
.worktrees/, and with --all the parent of a worktree elsewhere when it holds
only this repository's worktrees). See docs/shared-mode.md.`,
		Example: `  grove init                 # cache mode for this repository
  grove init --user          # cache mode for every repository of this user
  grove init --shared        # shared target dir for worktrees under the root
  grove init --shared --all  # ... and for worktrees elsewhere too
  grove init --shared --json`,
		Args: cli.Args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if all && !sharedMode {
				return cli.Usagef("--all only applies with --shared")
			}
			if user && sharedMode {
				return cli.Usagef("--user and --shared cannot be combined: the shared target dir is per repository")
			}
			r, err := openRepo(cmd, dir)
			if err != nil {
				return err
			}
			var res *setup.InitResult
			if sharedMode {
				res, err = setup.InitShared(cmd.Context(), r, setup.InitOptions{All: all})
			} else {
				res, err = setup.InitCache(cmd.Context(), r, user)
			}
			if err != nil {
				return err
			}
			if !sharedMode && !user && !noHook {
				setup.InstallSeedHook(cmd.Context(), r, res)
			}
			return cli.Print(cmd.OutOrStdout(), asJSON, res, func(w io.Writer) { printInit(w, res) })
		},
	}
	addDirFlag(c, &dir)
	c.Flags().BoolVar(&sharedMode, "shared", false, "set up one shared target dir for all worktrees")
	c.Flags().BoolVar(&all, "all", false, "with --shared: also write a config into worktrees outside the repository root")
	c.Flags().BoolVar(&user, "user", false, "cache mode in $CARGO_HOME/config.toml (all repositories)")
	c.Flags().BoolVar(&noHook, "no-hook", false, "cache mode without the post-checkout hook that seeds new worktrees")
	c.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return c
}

func printInit(w io.Writer, res *setup.InitResult) {
	switch {
	case res.Mode == setup.ModeShared:
		fmt.Fprintf(w, "shared mode: all covered worktrees build into %s\n", res.SharedDir)
	case res.Mode == setup.ModeCache:
		fmt.Fprintf(w, "cache mode: build.rustc-wrapper = %q in %s\n", setup.WrapperName, res.ConfigPath)
	}
	if res.SwitchedFrom != "" {
		fmt.Fprintf(w, "switched from %s mode\n", res.SwitchedFrom)
	}
	if len(res.Changed) == 0 {
		fmt.Fprintln(w, "already set up: nothing changed")
	}
	for _, p := range res.Changed {
		verb := "wrote"
		switch {
		case p == res.SharedDir:
			verb = "created"
		case filepath.Base(p) == hook.Name:
			fmt.Fprintf(w, "  installed %s: git worktree add seeds new worktrees (--no-hook to skip)\n", p)
			continue
		}
		fmt.Fprintf(w, "  %s %s\n", verb, p)
	}
	if len(res.Worktrees) > 0 {
		fmt.Fprintln(w, "worktrees:")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, c := range res.Worktrees {
			state := "covered"
			detail := ""
			if !c.Covered {
				state = "NOT covered"
				detail = c.Reason
				if c.Fix != "" {
					detail += " (fix: " + c.Fix + ")"
				}
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", state, c.Path, c.Ref, detail)
		}
		tw.Flush()
	}
	for _, n := range res.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

func newOffCmd() *cobra.Command {
	var dir string
	var user, asJSON bool
	c := &cobra.Command{
		Use:   "off [--user]",
		Short: "Undo grove init: remove the keys grove wrote, nothing else",
		Long: `Remove what grove init wrote: build.rustc-wrapper if it is "grove" from the
.cargo/config.toml of the worktree it runs in, and build.target-dir if it
points at this repository's .shared-target from the repository root's. Configs written by init --shared --all into
worktrees outside the root are cleaned too. A value init replaced (say
rustc-wrapper = "sccache") is put back: init kept it in a comment on the
key's line ("# grove off restores: ..."). Every other byte stays as it was.
A file that init created and that is now empty is removed, and its .cargo/
dir only if nothing else is in it.

.gitignore and .shared-target/ are left alone. Delete the shared dir
yourself if you no longer want its builds.

grove's post-checkout hook is removed too, and a hook it chained is put back.

--user removes build.rustc-wrapper = "grove" from $CARGO_HOME/config.toml.`,
		Example: `  grove off          # back to plain cargo in this repository
  grove off --user   # remove the user-wide cache mode`,
		Args: cli.Args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := openRepo(cmd, dir)
			if err != nil {
				return err
			}
			res, err := setup.Off(cmd.Context(), r, user)
			if err != nil {
				return err
			}
			return cli.Print(cmd.OutOrStdout(), asJSON, res, func(w io.Writer) { printOff(w, res) })
		},
	}
	addDirFlag(c, &dir)
	c.Flags().BoolVar(&user, "user", false, "remove cache mode from $CARGO_HOME/config.toml")
	c.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return c
}

func printOff(w io.Writer, res *setup.InitResult) {
	if len(res.Changed) == 0 {
		fmt.Fprintln(w, "grove is not set up here: nothing changed")
	}
	for _, p := range res.Changed {
		if filepath.Base(p) == hook.Name {
			fmt.Fprintf(w, "removed grove's %s hook\n", p)
			continue
		}
		fmt.Fprintf(w, "removed grove's settings from %s\n", p)
	}
	for _, n := range res.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

func newStatusCmd() *cobra.Command {
	var dir string
	var asJSON bool
	c := &cobra.Command{
		Use:   "status",
		Short: "List worktrees, their target dirs, disk use and what reclaim would free",
		Long: `List every worktree git knows (main, under worktrees/ or .worktrees/, elsewhere,
prunable) with its branch, its effective target dir resolved as Cargo resolves
it (CARGO_TARGET_DIR, CARGO_BUILD_TARGET_DIR, config files from the worktree up,
$CARGO_HOME, default <workspace>/target), the disk use of that dir, and whether
a Cargo build holds it right now. The mode of the repository (cache, shared or
none) comes first.

Disk use is real usage (allocated blocks) with each inode counted once, also
across dirs. The total counts every listed dir once. "reclaimable" is what
grove reclaim would free now.`,
		Example: `  grove status
  grove status --json | jq '.worktrees[] | {path, target_dir, bytes}'`,
		Args: cli.Args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := openRepo(cmd, dir)
			if err != nil {
				return err
			}
			st, err := setup.GetStatus(cmd.Context(), r)
			if err != nil {
				return err
			}
			return cli.Print(cmd.OutOrStdout(), asJSON, st, func(w io.Writer) { printStatus(w, st) })
		},
	}
	addDirFlag(c, &dir)
	c.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return c
}

func printStatus(w io.Writer, st *setup.Status) {
	fmt.Fprintf(w, "repository  %s\n", st.Root)
	mode := string(st.Mode)
	if st.UserWrapper != "" {
		mode += " (from " + st.UserWrapper + ")"
	}
	fmt.Fprintf(w, "mode        %s\n", mode)
	if st.Mode == setup.ModeShared {
		fmt.Fprintf(w, "shared dir  %s  %s\n", st.SharedDir, cli.HumanBytes(st.SharedBytes))
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WORKTREE\tREF\tWHERE\tTARGET DIR\tSIZE\tSTATE")
	for _, wt := range st.Worktrees {
		where := string(wt.Location)
		if wt.Prunable {
			where += ",prunable"
		}
		target, size := wt.TargetDir, cli.HumanBytes(wt.Bytes)
		switch {
		case wt.TargetError != "":
			target, size = "-", "-"
		case wt.Shared:
			target = "(shared)"
		case wt.TargetDir == "":
			target, size = "-", "-"
		}
		if wt.TargetSource != "" && wt.TargetSource != "default" && !wt.Shared {
			target += " [" + wt.TargetSource + "]"
		}
		if wt.BuildDir != "" {
			target += " + build dir " + wt.BuildDir
		}
		state := "idle"
		if wt.Building {
			state = "building"
			if len(wt.BuildPIDs) > 0 {
				state += fmt.Sprintf(" (pid %d)", wt.BuildPIDs[0])
			}
		}
		if wt.Prunable {
			state = "missing"
		} else if st.Mode != setup.ModeNone && !wt.Covered {
			state += ", not covered"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", wt.Path, wt.Ref, where, target, size, state)
	}
	tw.Flush()
	fmt.Fprintln(w)
	if len(st.Reclaim) == 0 {
		fmt.Fprintln(w, "reclaimable: nothing")
	} else {
		fmt.Fprintf(w, "reclaimable: %s in %d target dir(s) (grove reclaim)\n", cli.HumanBytes(st.ReclaimBytes), len(st.Reclaim))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, c := range st.Reclaim {
			note := c.Kind
			if c.Building {
				note += ", in use (a build, or a program running from it): will be skipped"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", c.Path, cli.HumanBytes(c.Bytes), note)
		}
		tw.Flush()
	}
	fmt.Fprintf(w, "total: %s in all target dirs above (each inode counted once)\n", cli.HumanBytes(st.TotalBytes))
	for _, n := range st.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

func newReclaimCmd() *cobra.Command {
	var dir string
	var yes, dryRun, asJSON bool
	c := &cobra.Command{
		Use:   "reclaim [--yes] [--dry-run]",
		Short: "Delete target dirs that no build uses any more",
		Long: `Delete target dirs that no build uses any more:
  - a worktree's own target/ when its builds go to another dir (the shared
    dir, after grove init --shared), and
  - target/ dirs of worktrees that no longer exist (prunable worktrees, or dirs
    left under worktrees/ or .worktrees/ after the worktree was removed).

reclaim shows the list and the sizes first, then asks for confirmation on a
terminal. Without a terminal, pass --yes. It only deletes dirs that Cargo made
(CACHEDIR.TAG, .rustc_info.json or a profile dir with .fingerprint). It holds
Cargo's own build lock while it deletes a dir. It skips a dir that a running
build holds. At the end it prints the bytes it freed.`,
		Example: `  grove reclaim --dry-run   # show what would be deleted
  grove reclaim             # ask, then delete
  grove reclaim --yes --json`,
		Args: cli.Args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if yes && dryRun {
				return cli.Usagef("--yes and --dry-run cannot be combined")
			}
			r, err := openRepo(cmd, dir)
			if err != nil {
				return err
			}
			st, err := setup.GetStatus(cmd.Context(), r)
			if err != nil {
				return err
			}
			out, errw := cmd.OutOrStdout(), cmd.ErrOrStderr()
			type jsonOut struct {
				Candidates   []setup.Candidate    `json:"candidates"`
				ReclaimBytes int64                `json:"reclaim_bytes"`
				DryRun       bool                 `json:"dry_run"`
				Result       *setup.ReclaimResult `json:"result,omitempty"`
			}
			jo := jsonOut{Candidates: st.Reclaim, ReclaimBytes: st.ReclaimBytes, DryRun: dryRun}
			if !asJSON {
				if len(st.Reclaim) == 0 {
					fmt.Fprintln(out, "nothing to reclaim")
					return nil
				}
				fmt.Fprintf(out, "%d target dir(s), %s:\n", len(st.Reclaim), cli.HumanBytes(st.ReclaimBytes))
				tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
				for _, c := range st.Reclaim {
					note := c.Kind
					if c.Building {
						note += ", in use (a build, or a program running from it): will be skipped"
					}
					fmt.Fprintf(tw, "  %s\t%s\t%s\n", c.Path, cli.HumanBytes(c.Bytes), note)
				}
				tw.Flush()
			}
			if dryRun || len(st.Reclaim) == 0 {
				if asJSON {
					return cli.WriteJSON(out, jo)
				}
				fmt.Fprintln(out, "dry run: nothing deleted")
				return nil
			}
			if !yes {
				if asJSON || !isatty.IsTerminal(os.Stdin.Fd()) {
					return cli.Usagef("not deleting without confirmation: stdin is not a terminal; pass --yes (or --dry-run)")
				}
				fmt.Fprintf(out, "Delete these %d dir(s)? [y/N] ", len(st.Reclaim))
				ans, _ := bufio.NewReader(os.Stdin).ReadString('\n')
				if a := strings.ToLower(strings.TrimSpace(ans)); a != "y" && a != "yes" {
					fmt.Fprintln(out, "nothing deleted")
					return nil
				}
			}
			var progress setup.Progress
			if !asJSON && isatty.IsTerminal(os.Stderr.Fd()) {
				var last time.Time
				progress = func(done, total int64) {
					if time.Since(last) < 100*time.Millisecond {
						return
					}
					last = time.Now()
					fmt.Fprintf(errw, "\rdeleting: %s of %s ", cli.HumanBytes(done), cli.HumanBytes(total))
				}
			}
			res, rerr := setup.Reclaim(cmd.Context(), st.Reclaim, progress)
			if progress != nil {
				fmt.Fprint(errw, "\r\033[K")
			}
			if asJSON {
				jo.Result = res
				if err := cli.WriteJSON(out, jo); err != nil {
					return err
				}
				return rerr
			}
			if res != nil {
				for _, s := range res.Skipped {
					fmt.Fprintf(out, "skipped %s: %s\n", s.Path, s.Reason)
				}
				fmt.Fprintf(out, "freed %s (%d bytes) from %d dir(s)\n", cli.HumanBytes(res.Freed), res.Freed, len(res.Deleted))
			}
			return rerr
		},
	}
	addDirFlag(c, &dir)
	c.Flags().BoolVarP(&yes, "yes", "y", false, "delete without asking")
	c.Flags().BoolVarP(&dryRun, "dry-run", "n", false, "only show what would be deleted")
	c.Flags().BoolVar(&asJSON, "json", false, "print the candidates (and the result) as JSON")
	return c
}

func newDoctorCmd() *cobra.Command {
	var dir string
	var asJSON bool
	c := &cobra.Command{
		Use:   "doctor",
		Short: "Check the setup and print each problem with its fix",
		Long: `Check grove's setup of this repository. Each problem is printed with its fix.

In cache mode, doctor checks what silently costs hits: the store on another
file system than a worktree's target dir (restores copy instead of linking),
a rustc that is not inside a toolchain (nothing is cached; it also reads
grove's statistics for such units), a seed hook that is not executable or
older than this grove's, a Cargo whose target-dir layout grove does not
know, and a GROVE_MAX_SIZE or GROVE_MAX_AGE the background trim cannot read
(builds work, but the store is never trimmed), and a GROVE_REMOTE that
does not parse (builds work, without the remote).

In shared mode, doctor checks these things. The config exists and git
ignores it. The target-dir is absolute and exists. .shared-target/ is
ignored. Every worktree is covered. No environment variable overrides the
config. It also states the mode's known caveats: builds in different
worktrees wait on Cargo's lock, the path works on this machine only,
alternating builds rebuild, and a worktree whose sources are older than the
shared artifacts can get another worktree's build of the workspace crates.

Exits 1 if there is any problem, 0 otherwise.`,
		Example: `  grove doctor
  grove doctor --json | jq '.problems'`,
		Args: cli.Args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := openRepo(cmd, dir)
			if err != nil {
				return err
			}
			rep, err := setup.Doctor(cmd.Context(), r)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if asJSON {
				if err := cli.WriteJSON(w, rep); err != nil {
					return err
				}
			} else {
				printDoctor(w, rep)
			}
			if !rep.OK {
				return fmt.Errorf("%d problem(s) found", len(rep.Problems))
			}
			return nil
		},
	}
	addDirFlag(c, &dir)
	c.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return c
}

func printDoctor(w io.Writer, rep *setup.Report) {
	fmt.Fprintf(w, "repository %s, mode %s\n", rep.Root, rep.Mode)
	if rep.OK {
		fmt.Fprintln(w, "no problems")
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "problem: %s\n", p.Message)
		if p.Fix != "" {
			fmt.Fprintf(w, "    fix: %s\n", p.Fix)
		}
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(w, "note: %s\n", n.Message)
		if n.Fix != "" {
			fmt.Fprintf(w, "    do: %s\n", n.Fix)
		}
	}
	if len(rep.Caveats) > 0 {
		fmt.Fprintln(w, "caveats of shared mode:")
		for _, c := range rep.Caveats {
			fmt.Fprintf(w, "  - %s\n", c.Message)
			if c.Fix != "" {
				fmt.Fprintf(w, "    instead: %s\n", c.Fix)
			}
		}
	}
}
