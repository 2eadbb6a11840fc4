package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

func (s *Store) lockPath(key string) string {
	return filepath.Join(s.dir, locksDir, fan(key), key+".lock")
}

// LockKey takes an exclusive lock on key, shared by every process using the
// store, so that when N builds miss the same key at once one compiles and the
// others wait, then find the entry and hit (single-flight).
//
// It blocks until the lock is free or ctx is done (the caller bounds the wait
// with a ctx deadline and falls back to compiling on its own). The lock is an
// flock(2) on locks/<first 2>/<key>.lock: the kernel releases it when the
// holder exits, however it dies, so a killed build never wedges the others.
// The descriptor is close-on-exec, so rustc children do not inherit the lock.
//
// Two goroutines of one process exclude each other too (each LockKey opens
// its own file description). unlock releases the lock; calling it more than
// once is harmless.
func (s *Store) LockKey(ctx context.Context, key string) (unlock func(), err error) {
	f, err := s.LockKeyFile(ctx, key)
	if err != nil {
		return nil, err
	}
	var once sync.Once
	return func() { once.Do(func() { f.Close() }) }, nil
}

// LockKeyFile is LockKey with the lock as its open file: closing it
// unlocks. A child process given the file (exec.Cmd.ExtraFiles) holds the
// lock after this process has closed its own descriptor or exited, until
// the child ends: flock belongs to the open file, not to a process.
func (s *Store) LockKeyFile(ctx context.Context, key string) (*os.File, error) {
	if !validHex(key) {
		return nil, fmt.Errorf("store: lock %q: %w", key, ErrInvalidName)
	}
	path := s.lockPath(key)
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("store: lock %s: %w", key, err)
		}
		fd, err := s.openLockFile(path)
		if err != nil {
			return nil, fmt.Errorf("store: lock %s: %w", key, err)
		}
		if err := flockCtx(ctx, fd); err != nil {
			// flockCtx has closed fd (or handed it to a goroutine that will).
			return nil, fmt.Errorf("store: lock %s: %w", key, err)
		}
		// Clean may have unlinked the lock file between our open and our
		// flock; then we hold a lock nobody else will ever look at. Retry on
		// the file now at path.
		if sameFile(fd, path) {
			return os.NewFile(uintptr(fd), path), nil
		}
		unix.Close(fd)
	}
}

// openLockFile opens (creating) a lock file. flock needs only a read-only
// descriptor, so a group store's lock files are group-readable, never
// writable by others.
func (s *Store) openLockFile(path string) (int, error) {
	const flags = unix.O_RDONLY | unix.O_CREAT | unix.O_CLOEXEC
	perm := uint32(0o600)
	if s.access == Group {
		perm = 0o640
	}
	fd, err := unix.Open(path, flags, perm)
	if errors.Is(err, unix.ENOENT) {
		if err := s.mkdirAll(filepath.Dir(path)); err != nil {
			return -1, err
		}
		fd, err = unix.Open(path, flags, perm)
	}
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: path, Err: err}
	}
	if s.access == Group {
		// The umask may have dropped the group bit; only the creator can
		// (and needs to) put it back.
		var st unix.Stat_t
		if unix.Fstat(fd, &st) == nil && st.Mode&0o040 == 0 && int(st.Uid) == os.Geteuid() {
			unix.Fchmod(fd, perm)
		}
	}
	return fd, nil
}

// flockCtx takes an exclusive flock on fd, giving up when ctx is done. The
// uncontended case costs one non-blocking flock. Otherwise a goroutine makes
// the blocking call, so the waiter is woken by the kernel the moment the
// holder releases, with no polling delay. On error fd is closed: if ctx
// expired while the goroutine is still blocked, the goroutine closes fd when
// its flock returns, which also drops a lock acquired too late.
func flockCtx(ctx context.Context, fd int) error {
	err := flockRetry(fd, unix.LOCK_EX|unix.LOCK_NB)
	if err == nil {
		return nil
	}
	if !errors.Is(err, unix.EWOULDBLOCK) {
		unix.Close(fd)
		return err
	}
	done := make(chan error, 1)
	go func() { done <- flockRetry(fd, unix.LOCK_EX) }()
	select {
	case err := <-done:
		if err != nil {
			unix.Close(fd)
		}
		return err
	case <-ctx.Done():
		go func() {
			<-done
			unix.Close(fd)
		}()
		return ctx.Err()
	}
}

// flockRetry calls flock(2), retrying when a signal (Go's preemption signals
// included) interrupts it.
func flockRetry(fd, how int) error {
	for {
		err := unix.Flock(fd, how)
		if err != unix.EINTR {
			return err
		}
	}
}

// sameFile reports whether fd is the file currently named path.
func sameFile(fd int, path string) bool {
	var a, b unix.Stat_t
	if unix.Fstat(fd, &a) != nil || unix.Stat(path, &b) != nil {
		return false
	}
	return a.Dev == b.Dev && a.Ino == b.Ino
}

// WarmQueue is the lock file the background compiles of a user's trees
// take in turn (package incr), in the store dir dir: one per store, so one
// per user unless stores are shared.
func WarmQueue(dir string) string {
	return filepath.Join(dir, locksDir, "warm.lock")
}
