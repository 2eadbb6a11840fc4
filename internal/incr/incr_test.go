package incr

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestWaiterIn(t *testing.T) {
	const locks = `1: FLOCK  ADVISORY  WRITE 4411 fd:01:1835123 0 EOF
1: -> FLOCK  ADVISORY  WRITE 4502 fd:01:1835123 0 EOF
2: POSIX  ADVISORY  WRITE 900 00:1a:77 0 EOF
2: -> POSIX  ADVISORY  WRITE 901 00:1a:77 0 EOF
3: FLOCK  ADVISORY  WRITE 4411 103:02:55 0 EOF
`
	for _, c := range []struct {
		name         string
		major, minor uint64
		ino          uint64
		want         bool
	}{
		{"a flock waiter on the inode", 0xfd, 1, 1835123, true},
		{"same inode number, other device", 0xfd, 2, 1835123, false},
		{"held, nobody waiting", 0x103, 2, 55, false},
		{"a POSIX lock waiter is not Cargo's", 0, 0x1a, 77, false},
		{"another inode", 0xfd, 1, 18351, false},
	} {
		if got := waiterIn(locks, c.major, c.minor, c.ino); got != c.want {
			t.Errorf("%s: waiterIn = %v, want %v", c.name, got, c.want)
		}
	}
}

// buildWaiting sees a process blocked on the lock's flock, as cargo is
// while a background compile holds its lock, and only then.
func TestBuildWaitingSeesABlockedFlock(t *testing.T) {
	if _, err := os.Stat("/proc/locks"); err != nil {
		t.Skip("no /proc/locks: builds wait for the background compile here")
	}
	flock, err := exec.LookPath("flock")
	if err != nil {
		t.Skip("no flock(1)")
	}
	p := filepath.Join(t.TempDir(), ".cargo-lock")
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	if buildWaiting(f) {
		t.Fatal("a waiter reported with none there")
	}
	cmd := exec.Command(flock, "-x", p, "true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for !buildWaiting(f) {
		if time.Now().After(deadline) {
			t.Fatal("the blocked flock(1) was never seen")
		}
		time.Sleep(10 * time.Millisecond)
	}
	_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
}
