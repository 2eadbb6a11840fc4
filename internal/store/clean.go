package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// changeTime returns the later of a file's mtime and ctime. A temp file made
// by hard-linking a source carries the source's (possibly old) mtime but a
// fresh ctime, and must not look abandoned to Clean while its writer is still
// about to rename it.
func changeTime(st *unix.Stat_t) time.Time {
	m := time.Unix(st.Mtim.Unix())
	c := time.Unix(st.Ctim.Unix())
	if c.After(m) {
		return c
	}
	return m
}

// Clean removes files that writers killed mid-write left under tmp/ (and lock
// files nobody holds) once they are older than maxAge, and quarantined files
// older than QuarantineAge, and returns the bytes freed (by tmp/). maxAge must exceed the longest write a live process may be doing
// (an hour is generous); Clean(0) is for when no other process uses the store.
// Bytes count allocated blocks of inodes whose last name was removed: a temp
// hard link to a target-dir file frees nothing.
func (s *Store) Clean(maxAge time.Duration) (int64, error) {
	cutoff := time.Now().Add(-maxAge)
	var freed int64
	var errs []error

	tmp := filepath.Join(s.dir, tmpDir)
	entries, err := os.ReadDir(tmp)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("store: clean: %w", err)
	}
	for _, e := range entries {
		path := filepath.Join(tmp, e.Name())
		var st unix.Stat_t
		if err := unix.Lstat(path, &st); err != nil {
			continue // removed by its writer meanwhile
		}
		if maxAge > 0 && !changeTime(&st).Before(cutoff) {
			continue
		}
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			err = os.RemoveAll(path)
		} else {
			err = os.Remove(path)
			if err == nil && st.Nlink == 1 {
				freed += st.Blocks * 512
			}
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}

	if err := s.cleanLocks(cutoff, maxAge); err != nil {
		errs = append(errs, err)
	}
	if err := s.cleanQuarantine(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return freed, fmt.Errorf("store: clean: %w", err)
	}
	return freed, nil
}

// cleanLocks removes lock files older than the cutoff that no process holds.
// It unlinks a file only while holding its flock, and LockKey re-checks the
// name after locking, so a waiter on a removed file retries on a new one.
func (s *Store) cleanLocks(cutoff time.Time, maxAge time.Duration) error {
	matches, err := filepath.Glob(filepath.Join(s.dir, locksDir, "*", "*.lock"))
	if err != nil {
		return err
	}
	for _, path := range matches {
		var st unix.Stat_t
		if err := unix.Stat(path, &st); err != nil {
			continue
		}
		if maxAge > 0 && !changeTime(&st).Before(cutoff) {
			continue
		}
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			continue
		}
		if unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB) == nil && sameFile(fd, path) {
			unix.Unlink(path)
		}
		unix.Close(fd)
	}
	return nil
}
