package trim

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// AutoInterval is how often a store is trimmed by itself: at most once an
// hour, started after a miss stored something (never on a hit).
const AutoInterval = time.Hour

// stampName is the file whose mtime says when the last automatic trim was
// started. It is also the lock the trim holds (flock), so only one runs.
const stampName = "trim.stamp"

// ClaimAuto reports whether an automatic trim of the store is due, and if
// so claims it by setting the stamp to now, so that the other builds of
// the hour do not start one too. Its cost when not due is one stat.
func ClaimAuto(storeDir string, now time.Time) bool {
	p := filepath.Join(storeDir, stampName)
	fi, err := os.Stat(p)
	switch {
	case err == nil:
		if now.Sub(fi.ModTime()) < AutoInterval {
			return false
		}
	case errors.Is(err, fs.ErrNotExist):
		f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o666) // the umask and the store dir's mode decide
		if err != nil {
			return false
		}
		f.Close()
		return true
	default:
		return false
	}
	// utimes(NULL) needs write access only, not ownership: in a group
	// store, every member may claim.
	return unix.Utimes(p, nil) == nil
}

// StartAuto starts `exe clean --auto` on storeDir detached: its own session
// (no terminal signal reaches it), no stdio (Cargo waits for the wrapper's
// pipes to close, not for this), not waited for.
func StartAuto(exe, storeDir string) error {
	cmd := exec.Command(exe, "clean", "--auto")
	cmd.Env = append(os.Environ(), "GROVE_DIR="+storeDir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start automatic trim: %w", err)
	}
	return cmd.Process.Release()
}

// LockAuto takes the automatic-trim lock of the store, without waiting. ok
// is false if another trim holds it, or no build claimed one (no stamp):
// the lock file is never created here, so a trim never recreates a store
// that was removed meanwhile.
func LockAuto(storeDir string) (unlock func(), ok bool) {
	fd, err := unix.Open(filepath.Join(storeDir, stampName), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, false
	}
	if unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB) != nil {
		unix.Close(fd)
		return nil, false
	}
	return func() { unix.Close(fd) }, true
}
