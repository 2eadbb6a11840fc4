package restore

import (
	"fmt"
	"os"
	"time"
)

// # Seeded units of path packages (rule 4)
//
// Package seed copies a unit of a path package (a workspace member) from a
// built worktree into a new one only when the unit's inputs have the same
// bytes in both trees (seed checks that). What then makes Cargo find it
// fresh is an mtime, and the mtime must never make a stale unit look
// fresh. Cargo (1.95) calls a path package's unit fresh when
//
//   - no file of its dep-info (rustc's list of what the compile read;
//     for a build-script run, its rerun-if-changed paths) is newer than
//     its anchor: the fingerprint's dep-info file (`dep-lib-x`), or the
//     run's `output` file; equal counts as fresh; and
//   - no output of a dependency is newer than its own newest output.
//
// So the rule has two halves:
//
//  1. In the donor, the unit must be fresh by exactly those two tests
//     (DonorFresh), or its outputs may come from other sources than the
//     donor's files, or from an older dependency: a failed rebuild leaves
//     old outputs behind.
//  2. In the new tree, the unit's anchor and the outputs Cargo compares
//     (the rmeta, a program, a run's `output`) are stamped with the seed
//     clock (SeedClock): a time not older than any file the checkout wrote,
//     and older than any write made after seed compared the contents. An
//     edit after the comparison is then newer than the anchor and Cargo
//     rebuilds, as it would after a build; an edit before it was compared.
//     Only private copies are stamped: an rlib stays hardlinked with its
//     blob's mtime (the rmeta, stamped, makes the unit new enough, as in
//     rule 2), and nothing shared is ever re-dated.
//
// Everything seeded for path units gets the same stamp, so a dependent is
// never older than its dependency (Cargo compares with >), and every
// registry unit seed copies keeps the donor's older mtime.

// SeedClock returns the time the file system holding dir stamps on a
// write now, t0, after waiting until its clock has moved past t0. Every
// file written before the call (the checkout) has an mtime ≤ t0; every
// write after it returns has an mtime > t0. The file system's clock is
// read, not time.Now: the kernel stamps files with a coarse clock that
// lags the fine one by up to a tick, so a write right after time.Now()
// could carry an earlier time.
func SeedClock(dir string) (time.Time, error) {
	stamp := func() (time.Time, error) {
		f, err := os.CreateTemp(dir, ".grove-clock-*")
		if err != nil {
			return time.Time{}, fmt.Errorf("seed clock: %w", err)
		}
		defer os.Remove(f.Name())
		defer f.Close()
		if _, err := f.Write([]byte{0}); err != nil {
			return time.Time{}, fmt.Errorf("seed clock: %w", err)
		}
		fi, err := f.Stat()
		if err != nil {
			return time.Time{}, fmt.Errorf("seed clock: %w", err)
		}
		return fi.ModTime(), nil
	}
	t0, err := stamp()
	if err != nil {
		return t0, err
	}
	for deadline := time.Now().Add(5 * time.Second); ; {
		t, err := stamp()
		if err != nil {
			return t0, err
		}
		if t.After(t0) {
			return t0, nil
		}
		if time.Now().After(deadline) {
			return t0, fmt.Errorf("seed clock: the file system's clock in %s did not move in 5s", dir)
		}
		time.Sleep(time.Millisecond)
	}
}

// DonorFresh reports whether a unit is fresh in the donor by Cargo's two
// tests (half 1 of rule 4): anchor is the mtime of its anchor file, inputs
// the mtimes of the files its dep-info or rerun-if-changed lists, newest
// its newest output's mtime (of the outputs Cargo compares), and depNewest
// the newest output of anything it may depend on (a superset is fine: it
// can only refuse a seed).
func DonorFresh(anchor time.Time, inputs []time.Time, newest, depNewest time.Time) bool {
	for _, m := range inputs {
		if m.After(anchor) {
			return false
		}
	}
	return !depNewest.After(newest)
}
