package setup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/grove-rs/grove/internal/cargolock"
	"golang.org/x/sys/unix"
)

// ReclaimResult is what a reclaim did.
type ReclaimResult struct {
	Deleted []Candidate `json:"deleted"`
	// Skipped were held by a running build, or no longer looked like a
	// Cargo target dir when their turn came.
	Skipped []Skipped `json:"skipped"`
	// Freed counts the blocks of every inode whose last link was removed.
	Freed  int64    `json:"freed_bytes"`
	Errors []string `json:"errors,omitempty"`
}

// Skipped is a candidate reclaim left alone, and why.
type Skipped struct {
	Candidate
	Reason string `json:"reason"`
}

// Progress receives the bytes freed so far and the bytes planned.
type Progress func(done, total int64)

// Reclaim deletes the candidates (from GetStatus). Each is re-checked
// right before deletion and deleted while grove holds Cargo's build locks
// of it, so a build that starts meanwhile waits instead of writing into a
// dir being deleted; a dir a build holds, or that a running process uses
// (a test binary: Cargo releases its lock before running tests), is
// skipped.
func Reclaim(ctx context.Context, cands []Candidate, progress Progress) (*ReclaimResult, error) {
	res := &ReclaimResult{Deleted: []Candidate{}, Skipped: []Skipped{}}
	var total int64
	for _, c := range cands {
		if !c.Building {
			total += c.Bytes
		}
	}
	report := func(n int64) {
		res.Freed += n
		if progress != nil {
			progress(res.Freed, total)
		}
	}
	for _, c := range cands {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if !IsCargoTargetDir(c.Path) {
			res.Skipped = append(res.Skipped, Skipped{c, "not a Cargo target dir (any more)"})
			continue
		}
		g, held, err := cargolock.Acquire(c.Path)
		if err != nil {
			res.Errors = append(res.Errors, err.Error())
			continue
		}
		if len(held) > 0 {
			c.Building, c.BuildPIDs = true, pids(held)
			res.Skipped = append(res.Skipped, Skipped{c, "a running Cargo build holds it"})
			continue
		}
		// With the lock held no new build can start here; a test binary or
		// `cargo run` program started earlier runs without the lock.
		if users := cargolock.Users(c.Path); len(users) > 0 {
			g.Release()
			c.Building = true
			for _, u := range users {
				c.BuildPIDs = append(c.BuildPIDs, u.PID)
			}
			res.Skipped = append(res.Skipped, Skipped{c, fmt.Sprintf("process %d runs from it (%s)", users[0].PID, users[0].Path)})
			continue
		}
		err = removeTree(c.Path, report)
		g.Release()
		if err != nil {
			res.Errors = append(res.Errors, err.Error())
			continue
		}
		res.Deleted = append(res.Deleted, c)
	}
	if len(res.Errors) > 0 {
		return res, fmt.Errorf("%d target dir(s) not fully deleted: %s", len(res.Errors), res.Errors[0])
	}
	return res, nil
}

// removeTree deletes dir and everything under it without following
// symlinks, calling freed with the blocks of each inode whose last link it
// removes.
func removeTree(dir string, freed func(int64)) error {
	if err := removeContents(dir, freed); err != nil {
		return err
	}
	var st unix.Stat_t
	if err := unix.Lstat(dir, &st); err != nil {
		return fmt.Errorf("stat %s: %w", dir, err)
	}
	if err := os.Remove(dir); err != nil {
		return fmt.Errorf("remove %s: %w", dir, err)
	}
	freed(st.Blocks * 512)
	return nil
}

func removeContents(dir string, freed func(int64)) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	defer f.Close()
	// Read every name before unlinking any, so deletion cannot disturb
	// the directory stream.
	names, err := f.Readdirnames(-1)
	if err != nil {
		return fmt.Errorf("read %s: %w", dir, err)
	}
	fd := int(f.Fd())
	for _, name := range names {
		var st unix.Stat_t
		if err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			if errors.Is(err, unix.ENOENT) {
				continue
			}
			return fmt.Errorf("stat %s: %w", filepath.Join(dir, name), err)
		}
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			if err := removeContents(filepath.Join(dir, name), freed); err != nil {
				return err
			}
			if err := unix.Unlinkat(fd, name, unix.AT_REMOVEDIR); err != nil && !errors.Is(err, unix.ENOENT) {
				return fmt.Errorf("remove %s: %w", filepath.Join(dir, name), err)
			}
			freed(st.Blocks * 512)
			continue
		}
		if err := unix.Unlinkat(fd, name, 0); err != nil {
			if errors.Is(err, unix.ENOENT) {
				continue
			}
			return fmt.Errorf("remove %s: %w", filepath.Join(dir, name), err)
		}
		if st.Nlink <= 1 {
			freed(st.Blocks * 512)
		}
	}
	return nil
}
