// Package umask tells the mode a file gets when this process creates it the
// way rustc, a linker or a build script does (open(2) with 0666, or 0777 for
// a program): those bits less the process's umask.
//
// Why: a file grove writes into a target dir in place of one a compile or a
// build-script run would have written (a restored program or test binary, a
// dep-info file, a replayed OUT_DIR file, a build script's trampoline) must
// have the mode plain cargo's would have in that build. With umask 002
// (Debian's and Ubuntu's default for users with their own group) plain
// cargo's outputs are group-writable; with umask 077 they are private. A
// fixed 0644/0755 would differ both ways.
//
// The umask is read, never set: umask(2) can only be read by setting it,
// which would change the mode of every file any goroutine creates
// meanwhile.
package umask

import (
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Fallback is the umask assumed when it cannot be read.
const Fallback fs.FileMode = 0o022

// Mode returns the mode a file created by this process gets: 0777 when exec
// (a program), else 0666, less the umask. dir is where a probe file may be
// created where the system has no /proc/self/status (macOS); it is removed
// at once.
func Mode(dir string, exec bool) fs.FileMode {
	perm := fs.FileMode(0o666)
	if exec {
		perm = 0o777
	}
	return perm &^ Current(dir)
}

// Current returns the process's umask: from /proc/self/status where the
// kernel reports it (Linux 4.7 and later), else from a probe file created
// in dir with mode 0777, else Fallback.
func Current(dir string) fs.FileMode {
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		if m, ok := parseStatus(string(b)); ok {
			return m
		}
	}
	if m, ok := probe(dir); ok {
		return m
	}
	return Fallback
}

// probe creates a file in dir (os.TempDir if empty) with mode 0777 and
// returns the bits the umask took away; the file is removed at once.
func probe(dir string) (fs.FileMode, bool) {
	if dir == "" {
		dir = os.TempDir()
	}
	f, err := os.CreateTemp(dir, ".grove-umask-*")
	if err != nil {
		return 0, false
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	// CreateTemp made 0600; the probe needs open(2) to apply the umask to
	// 0777, on the name it just proved free (O_EXCL: never someone else's).
	p, err := os.OpenFile(filepath.Clean(name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o777)
	if err != nil {
		return 0, false
	}
	defer os.Remove(name)
	defer p.Close()
	fi, err := p.Stat()
	if err != nil {
		return 0, false
	}
	return 0o777 &^ fi.Mode().Perm(), true
}

// parseStatus finds the "Umask:" line of /proc/self/status.
func parseStatus(s string) (fs.FileMode, bool) {
	for _, line := range strings.Split(s, "\n") {
		v, ok := strings.CutPrefix(line, "Umask:")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32)
		if err != nil || n > 0o777 {
			return 0, false
		}
		return fs.FileMode(n), true
	}
	return 0, false
}
