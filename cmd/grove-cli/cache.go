package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/grove-rs/grove/internal/cli"
	"github.com/grove-rs/grove/internal/settings"
	"github.com/grove-rs/grove/internal/stats"
	"github.com/grove-rs/grove/internal/store"
	"github.com/grove-rs/grove/internal/trim"
	"github.com/grove-rs/grove/internal/verify"
	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
)

// cacheCmds returns the commands that inspect the cache: stats, explain,
// clean, verify.
func cacheCmds() []*cobra.Command {
	return []*cobra.Command{newStatsCmd(), newExplainCmd(), newCleanCmd(), newVerifyCmd(), newSeedCmd(), newConfigCmd()}
}

// storeDir is the store a build started in the current directory uses.
// It fails on a setting no build can use (settings.Check).
func storeDir() (string, error) {
	cfg := settings.FromEnv(buildEnv("."))
	return cfg.Dir, cfg.Check()
}

// openStore opens the store as the wrapper does (GROVE_DIR,
// GROVE_SHARED_STORE, Cargo's [env] included), so a command refuses exactly
// the stores the wrapper refuses, and says why.
func openStore() (*store.Store, error) {
	cfg := settings.FromEnv(buildEnv("."))
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	access, err := store.ParseAccess(cfg.Shared)
	if err != nil {
		return nil, &cli.UsageError{Err: err}
	}
	return store.OpenAccess(cfg.Dir, access)
}

func newStatsCmd() *cobra.Command {
	var asJSON, zero bool
	c := &cobra.Command{
		Use:   "stats",
		Short: "Show cache hits, misses, uncacheable units and time saved",
		Long: `Show what the cache did since the statistics were last zeroed: hits,
misses, uncacheable invocations by reason, wrapper errors, compile time saved,
bytes restored and bytes restored without new data blocks (hardlink/reflink).`,
		Example: `  grove stats
  grove stats --json
  grove stats --zero      # start counting from now`,
		Args: cli.Args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := openStore()
			if err != nil {
				return err
			}
			dir := st.Dir()
			if zero {
				if err := stats.Zero(dir, time.Now()); err != nil {
					return err
				}
				return cli.Print(cmd.OutOrStdout(), asJSON, struct {
					Store  string `json:"store"`
					Zeroed bool   `json:"zeroed"`
				}{dir, true}, func(w io.Writer) { fmt.Fprintln(w, "statistics zeroed") })
			}
			evs, err := stats.Read(dir)
			if err != nil {
				return err
			}
			sum := stats.Summarize(evs)
			q, err := st.Quarantined()
			if err != nil {
				return err
			}
			return cli.Print(cmd.OutOrStdout(), asJSON, struct {
				Store string `json:"store"`
				stats.Summary
				Quarantined store.Quarantine `json:"quarantined"`
			}{dir, sum, q}, func(w io.Writer) {
				printSummary(w, dir, sum)
				if q.Total() > 0 {
					fmt.Fprintf(w, "found corrupt and set aside (last %s): %d blobs, %d records %v\n",
						store.QuarantineAge, q.Blobs, q.Total()-q.Blobs, q.Objects)
				}
			})
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.Flags().BoolVar(&zero, "zero", false, "zero the statistics")
	return c
}

func printSummary(w io.Writer, dir string, s stats.Summary) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "store\t%s\n", dir)
	fmt.Fprintf(tw, "units\t%d\n", s.Hits+s.Misses+s.Uncacheable+s.Errors+s.Failed)
	fmt.Fprintf(tw, "hits\t%d\t(%.0f%% of cacheable)\n", s.Hits, 100*s.HitRate)
	fmt.Fprintf(tw, "misses\t%d\n", s.Misses)
	fmt.Fprintf(tw, "uncacheable\t%d\n", s.Uncacheable)
	for _, r := range sortedKeys(s.ByReason) {
		fmt.Fprintf(tw, "  %s\t%d\n", r, s.ByReason[r])
	}
	if s.Errors > 0 {
		fmt.Fprintf(tw, "grove errors (rustc ran as given)\t%d\n", s.Errors)
		for _, r := range sortedKeys(s.ErrorsByReason) {
			fmt.Fprintf(tw, "  %s\t%d\n", r, s.ErrorsByReason[r])
		}
	}
	if s.Failed > 0 {
		fmt.Fprintf(tw, "failed compiles\t%d\n", s.Failed)
	}
	if len(s.Remote) > 0 {
		var parts []string
		for _, r := range sortedKeys(s.Remote) {
			parts = append(parts, fmt.Sprintf("%s %d", r, s.Remote[r]))
		}
		fmt.Fprintf(tw, "remote cache (local misses)\t%s\n", strings.Join(parts, ", "))
	}
	fmt.Fprintf(tw, "time saved\t%s\n", (time.Duration(s.TimeSavedMs) * time.Millisecond).Round(100*time.Millisecond))
	fmt.Fprintf(tw, "median wrapper time per hit\t%.1f ms\n", s.WrapperMsHit)
	fmt.Fprintf(tw, "restored\t%s\n", cli.HumanBytes(s.BytesRestored))
	fmt.Fprintf(tw, "  without new data (hardlink/reflink)\t%s\n", cli.HumanBytes(s.BytesShared))
	printCPU(tw, s)
	if r := s.Runs; r.Replayed+r.Stored+r.NotStored+r.Errors+r.Failed > 0 {
		fmt.Fprintf(tw, "build-script runs replayed\t%d\t(median %.1f ms each, %s saved)\n", r.Replayed, r.MedianMs,
			(time.Duration(r.TimeSavedMs) * time.Millisecond).Round(100*time.Millisecond))
		fmt.Fprintf(tw, "build-script runs run\t%d\t(stored %d, failed %d, grove errors %d)\n", r.Stored+r.NotStored+r.Errors+r.Failed, r.Stored, r.Failed, r.Errors)
		for _, reason := range sortedKeys(r.ByReason) {
			fmt.Fprintf(tw, "  not stored: %s\t%d\n", reason, r.ByReason[reason])
		}
		if len(r.Remote) > 0 {
			var parts []string
			for _, k := range sortedKeys(r.Remote) {
				parts = append(parts, fmt.Sprintf("%s %d", k, r.Remote[k]))
			}
			fmt.Fprintf(tw, "remote cache (local run misses)\t%s\n", strings.Join(parts, ", "))
		}
	}
	tw.Flush()
}

// printCPU prints what grove cost in CPU beside what it ran, and where the
// misses' time went: a cold build's cost over plain cargo's (issue 9).
func printCPU(tw io.Writer, s stats.Summary) {
	sec := func(us int64) string {
		if us < 1e6 {
			return fmt.Sprintf("%d ms", us/1000)
		}
		return fmt.Sprintf("%.1f s", float64(us)/1e6)
	}
	if c := s.CPU; c.Measured > 0 {
		events := s.Invocations + s.Runs.Replayed + s.Runs.Stored + s.Runs.NotStored + s.Runs.Errors + s.Runs.Failed
		note := ""
		if c.Measured < events {
			note = fmt.Sprintf(" (%d of %d events measured)", c.Measured, events)
		}
		fmt.Fprintf(tw, "CPU\tgrove %s\t(beside rustc %s, build scripts %s)%s\n", sec(c.GroveUs), sec(c.RustcUs), sec(c.ScriptsUs), note)
	}
	if p := s.MissPhases; p.N > 0 {
		rest := p.WallUs - p.KeyUs - p.LookupUs - p.LockUs - p.RemoteUs - p.CompileUs - p.StoreUs
		fmt.Fprintf(tw, "miss time (sum of %d)\tkey %s, lookup %s, lock wait %s, remote %s, compile %s, store %s (pin scan %s), rest %s\n",
			p.N, sec(p.KeyUs), sec(p.LookupUs), sec(p.LockUs), sec(p.RemoteUs), sec(p.CompileUs), sec(p.StoreUs), sec(p.ScanUs), sec(rest))
		if p.CPUUs > 0 {
			fmt.Fprintf(tw, "  CPU per miss\tgrove %.1f ms, rustc %.1f ms\n",
				float64(p.CPUUs)/1e3/float64(p.N), float64(p.ChildCPUUs)/1e3/float64(p.N))
		}
	}
}

func newExplainCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "explain [CRATE]",
		Short: "Say why units of the last build missed the cache",
		Long: `For the last build (or one crate of it), list every unit that was compiled
instead of restored, and why: the key input that differed from the nearest
stored unit of the same crate (a source file, an env var, a feature, a flag,
a dependency, the compiler), or why the unit cannot be cached at all.`,
		Example: `  grove explain            # all misses of the last build
  grove explain ledger_core
  grove explain --json`,
		Args: cli.Args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := storeDir()
			if err != nil {
				return err
			}
			evs, err := stats.Read(dir)
			if err != nil {
				return err
			}
			var crate string
			if len(args) == 1 {
				crate = strings.ReplaceAll(args[0], "-", "_")
			}
			var out []stats.Event
			if crate != "" {
				out = stats.NewestOf(evs, crate)
				if len(out) == 0 {
					return fmt.Errorf("no build of crate %s recorded in %s", crate, dir)
				}
			} else {
				out = stats.LastBuild(evs)
				if len(out) == 0 {
					return fmt.Errorf("no build recorded in %s", dir)
				}
			}
			return cli.Print(cmd.OutOrStdout(), asJSON, out, func(w io.Writer) { printExplain(w, out, crate != "") })
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func printExplain(w io.Writer, evs []stats.Event, all bool) {
	counts := map[string]int{}
	for _, ev := range evs {
		if ev.Run {
			if ev.Kind != stats.Hit && ev.Kind != stats.Miss {
				fmt.Fprintf(w, "%s: build-script run %s: %s\n", ev.Crate, ev.Kind, ev.Reason)
			}
			continue
		}
		counts[ev.Kind]++
		if ev.Kind == stats.Hit && !all {
			continue
		}
		switch ev.Kind {
		case stats.Hit:
			fmt.Fprintf(w, "%s: hit (%d ms)\n", ev.Crate, ev.Ms)
		case stats.Miss:
			fmt.Fprintf(w, "%s: miss\n", ev.Crate)
			for _, c := range ev.Why {
				switch {
				case c.Old == "" && c.New == "":
					fmt.Fprintf(w, "    %s changed\n", c.Name)
				case c.Old == "":
					fmt.Fprintf(w, "    %s: now %s\n", c.Name, c.New)
				case c.New == "":
					fmt.Fprintf(w, "    %s: was %s\n", c.Name, c.Old)
				default:
					fmt.Fprintf(w, "    %s: %s -> %s\n", c.Name, c.Old, c.New)
				}
			}
		default:
			fmt.Fprintf(w, "%s: %s: %s\n", ev.Crate, ev.Kind, ev.Reason)
		}
	}
	fmt.Fprintf(w, "%d hits, %d misses, %d uncacheable, %d errors\n", counts[stats.Hit], counts[stats.Miss], counts[stats.Uncacheable], counts[stats.Error])
}

func newCleanCmd() *cobra.Command {
	var maxAge, maxSize string
	var tmpAge time.Duration
	var dryRun, asJSON, auto bool
	c := &cobra.Command{
		Use:   "clean [--max-age D] [--max-size SIZE]",
		Short: "Trim the store by age and size, and remove leftover temp files",
		Long: `Remove temp files that killed writers left in the store, and trim it: entries
not used for --max-age, then the least recently used entries and caches until
what only the store holds fits in --max-size. The records that go with an
entry (manifests, lib records, key components) go with it; memos go by age
and size. Files still hardlinked by a target dir cost no extra space: they
are counted apart, and an entry whose files all are stays. Without flags, the
limits are GROVE_MAX_SIZE and GROVE_MAX_AGE, else 10GiB and 30 days: the
same trim grove runs by itself at most once an hour after a build stored
something. Safe while builds run.`,
		Example: `  grove clean                          # the default limits
  grove clean --max-age 14d            # drop entries unused for two weeks
  grove clean --max-size 20GiB --dry-run
  grove clean --max-size 1             # keep only what target dirs still use`,
		Args: cli.Args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg := settings.FromEnv(buildEnv("."))
			if err := cfg.Check(); err != nil {
				return err
			}
			size, age, err := trim.Limits(cfg.MaxSize, cfg.MaxAge)
			if err == nil && maxSize != "" {
				size, err = trim.ParseSize(maxSize)
			}
			if err == nil && maxAge != "" {
				age, err = trim.ParseAge(maxAge)
			}
			if err != nil {
				return &cli.UsageError{Err: err}
			}
			// No store, nothing to trim: clean creates nothing, not even
			// the store, and --json still prints JSON.
			if _, err := os.Stat(cfg.Dir); errors.Is(err, fs.ErrNotExist) {
				if auto {
					return nil
				}
				return cli.Print(cmd.OutOrStdout(), asJSON, cleanReport{Store: cfg.Dir, MaxBytes: size, MaxAgeNs: int64(age)}, func(out io.Writer) {
					fmt.Fprintf(out, "no store at %s: nothing to clean\n", cfg.Dir)
				})
			}
			st, err := openStore()
			if err != nil {
				return err
			}
			if auto {
				unlock, ok := trim.LockAuto(st.Dir())
				if !ok {
					return nil // another trim runs
				}
				defer unlock()
				_ = unix.Setpriority(unix.PRIO_PROCESS, 0, 10) // yield to the builds
			}
			var tmpFreed int64
			if !dryRun {
				if tmpFreed, err = st.Clean(tmpAge); err != nil {
					return err
				}
			}
			opts := trim.Options{MaxAge: age, MaxBytes: size, DryRun: dryRun}
			tty := !auto && !asJSON && isatty.IsTerminal(os.Stderr.Fd())
			if tty {
				opts.Progress = func(n int) { fmt.Fprintf(cmd.ErrOrStderr(), "\rgrove clean: %d files looked at", n) }
			}
			res, err := trim.Trim(st, opts)
			if tty {
				fmt.Fprint(cmd.ErrOrStderr(), "\r\033[K")
			}
			if err != nil || auto {
				return err
			}
			return cli.Print(cmd.OutOrStdout(), asJSON, cleanReport{st.Dir(), size, int64(age), tmpFreed, res}, func(out io.Writer) {
				verb, freed := "removed", "freed"
				if dryRun {
					verb, freed = "would remove", "would free"
				}
				removed := 0
				for _, n := range res.Removed {
					removed += n
				}
				fmt.Fprintf(out, "store %s: limits %s, %s unused; looked at %d files in %s\n", st.Dir(), cli.HumanBytes(size), trim.FormatAge(age), res.Seen, res.Elapsed.Round(time.Millisecond))
				fmt.Fprintf(out, "%s %d of %d entries, %d records and %d files: %s %s (temp files: %s)\n", verb, res.EntriesRemoved, res.Entries, removed-res.EntriesRemoved, res.BlobsRemoved, freed, cli.HumanBytes(res.BytesFreed), cli.HumanBytes(tmpFreed))
				fmt.Fprintf(out, "kept %d records and %d files: %s in the store only, %s still hardlinked by target dirs (removing it would free nothing)\n", sum(res.Objects), res.Blobs, cli.HumanBytes(res.BytesKept), cli.HumanBytes(res.BytesInTrees))
			})
		},
	}
	c.Flags().StringVar(&maxAge, "max-age", "", "remove entries unused for longer, e.g. 720h or 30d (default GROVE_MAX_AGE, else 30d)")
	c.Flags().StringVar(&maxSize, "max-size", "", "keep what only the store holds under this size, e.g. 20GiB (default GROVE_MAX_SIZE, else 10GiB)")
	c.Flags().DurationVar(&tmpAge, "tmp-age", time.Hour, "remove temp files older than this")
	c.Flags().BoolVar(&dryRun, "dry-run", false, "say what would be removed; change and create nothing")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.Flags().BoolVar(&auto, "auto", false, "the background trim a build starts: quiet, skipped if one runs")
	c.Flags().MarkHidden("auto")
	return c
}

// cleanReport is what `grove clean --json` prints.
type cleanReport struct {
	Store     string `json:"store"`
	MaxBytes  int64  `json:"max_bytes"`
	MaxAgeNs  int64  `json:"max_age_ns"`
	TempFreed int64  `json:"temp_bytes_freed"`
	trim.Result
}

func newVerifyCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "verify",
		Short: "Re-hash every stored file and check every record; set aside what is corrupt",
		Long: `Re-hash every file in the store and decode every record. A file whose
content no longer matches its digest (written in place through a hard link)
is moved to the store's quarantine, and the entries using it are dropped, so
the next build compiles those units again. Records that do not decode, or
decode to nothing usable, are dropped; manifests are repaired. Exits 1 when
anything was wrong. Safe while builds run.`,
		Example: `  grove verify
  grove verify --json`,
		Args: cli.Args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := openStore()
			if err != nil {
				return err
			}
			res, err := verify.Store(st)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				if err := cli.WriteJSON(out, struct {
					Store string `json:"store"`
					OK    bool   `json:"ok"`
					verify.Result
				}{st.Dir(), res.OK(), res}); err != nil {
					return err
				}
			} else {
				for _, p := range res.Sorted() {
					fmt.Fprintf(out, "%s %s: %s: %s\n", p.Kind, p.Key, p.Reason, p.Action)
				}
				fmt.Fprintf(out, "store %s: %d files (%s) re-hashed, %d records checked in %s\n",
					st.Dir(), res.Blobs, cli.HumanBytes(res.BlobBytes), sum(res.Objects), res.Elapsed.Round(time.Millisecond))
			}
			if !res.OK() {
				return fmt.Errorf("verify: %d problems found and dealt with", len(res.Problems))
			}
			if !asJSON {
				fmt.Fprintln(out, "no problems found")
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || m[keys[i]] == m[keys[j]] && keys[i] < keys[j] })
	return keys
}
