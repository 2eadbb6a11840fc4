// Package cargolock tells whether a running Cargo build holds a target or
// build dir, using the locks Cargo itself takes in each profile dir
// (`<dir>/<profile>/`, `<dir>/<triple>/<profile>/` when cross-compiling).
// Up to 1.95 Cargo holds `.cargo-lock` exclusively for the whole build;
// from 1.96 it holds `.cargo-build-lock` in the build dir and
// `.cargo-artifact-lock` in the target dir exclusively and `.cargo-lock`
// only shared (cargolayout.LockNames). With `build.build-dir` apart from
// the target dir, both dirs carry locks, so callers pass both.
// `$CARGO_HOME/.package-cache` is Cargo's registry lock, not a build lock,
// and is ignored.
//
// Cargo releases these locks before `cargo test` runs the test binaries
// and before `cargo run` runs the program, so a free lock does not mean
// a dir is unused: see Users for the processes that run from it.
package cargolock

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/grove-rs/grove/internal/cargolayout"
	"golang.org/x/sys/unix"
)

// LockName is the file Cargo up to 1.95 flocks in each profile dir of a
// build; later Cargos add others (cargolayout.LockNames).
const LockName = ".cargo-lock"

// Lock is one Cargo build lock that is held now.
type Lock struct {
	Path string `json:"path"`
	// PID is the holder's process id when /proc/locks shows it, else 0.
	PID int `json:"pid,omitempty"`
}

// Files returns the lock files present in the given target and build dirs.
func Files(roots ...string) ([]string, error) {
	return cargolayout.LockFiles(roots...), nil
}

// Held returns the build locks of the dirs (a workspace's target and build
// dirs) that some process holds now. It
// probes with a non-blocking shared flock, released at once, so a holder
// is never disturbed.
func Held(roots ...string) ([]Lock, error) {
	files, err := Files(roots...)
	if err != nil {
		return nil, err
	}
	var held []Lock
	for _, f := range files {
		busy, err := probe(f)
		if err != nil {
			return nil, err
		}
		if busy {
			held = append(held, Lock{Path: f, PID: holderPID(f)})
		}
	}
	return held, nil
}

func probe(path string) (bool, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return false, nil
		}
		return false, fmt.Errorf("open %s: %w", path, err)
	}
	defer unix.Close(fd)
	switch err := unix.Flock(fd, unix.LOCK_SH|unix.LOCK_NB); {
	case err == nil:
		return false, nil
	case errors.Is(err, unix.EWOULDBLOCK):
		return true, nil
	default:
		return false, fmt.Errorf("flock %s: %w", path, err)
	}
}

// Guard holds Cargo's build locks of one target dir exclusively, so no
// Cargo build can start there while grove deletes it: a build that starts
// meanwhile waits ("Blocking waiting for file lock") and then finds the dir
// gone and starts afresh.
type Guard struct{ fds []int }

// Acquire takes every build lock of the dirs without blocking. If any is
// held by a running build it takes none and returns those that are held.
func Acquire(roots ...string) (*Guard, []Lock, error) {
	files, err := Files(roots...)
	if err != nil {
		return nil, nil, err
	}
	g := &Guard{}
	var held []Lock
	for _, f := range files {
		fd, err := unix.Open(f, unix.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			if errors.Is(err, unix.ENOENT) {
				continue
			}
			g.Release()
			return nil, nil, fmt.Errorf("open %s: %w", f, err)
		}
		if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
			unix.Close(fd)
			if errors.Is(err, unix.EWOULDBLOCK) {
				held = append(held, Lock{Path: f, PID: holderPID(f)})
				continue
			}
			g.Release()
			return nil, nil, fmt.Errorf("flock %s: %w", f, err)
		}
		g.fds = append(g.fds, fd)
	}
	if len(held) > 0 {
		g.Release()
		return nil, held, nil
	}
	return g, nil, nil
}

// Release drops the locks. Safe to call more than once.
func (g *Guard) Release() {
	if g == nil {
		return
	}
	for _, fd := range g.fds {
		unix.Close(fd)
	}
	g.fds = nil
}

// holderPID finds the process holding a flock on path in /proc/locks
// (Linux), matching device and inode. 0 when unknown.
func holderPID(path string) int {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0
	}
	f, err := os.Open("/proc/locks")
	if err != nil {
		return 0
	}
	defer f.Close()
	want := fmt.Sprintf("%02x:%02x:%d", unix.Major(uint64(st.Dev)), unix.Minor(uint64(st.Dev)), st.Ino)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// "1: FLOCK  ADVISORY  WRITE 13860 fe:00:9981836 0 EOF"; waiters
		// ("1: -> FLOCK ...") are skipped.
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[1] != "FLOCK" {
			continue
		}
		if strings.EqualFold(fields[5], want) {
			if pid, err := strconv.Atoi(fields[4]); err == nil {
				return pid
			}
		}
	}
	return 0
}
