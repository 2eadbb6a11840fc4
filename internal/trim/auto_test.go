package trim

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// One claim an hour; the lock is never created by a trim and is held by
// one at a time.
func TestClaimAndLockAuto(t *testing.T) {
	dir := t.TempDir()
	if _, ok := LockAuto(dir); ok {
		t.Fatal("locked without a claim (the lock file must not be created)")
	}
	if _, err := os.Stat(filepath.Join(dir, stampName)); err == nil {
		t.Fatal("LockAuto created the stamp")
	}
	now := time.Now()
	if !ClaimAuto(dir, now) {
		t.Fatal("first claim refused")
	}
	if ClaimAuto(dir, now.Add(time.Minute)) {
		t.Fatal("claimed twice in an hour")
	}
	if !ClaimAuto(dir, now.Add(2*AutoInterval)) {
		t.Fatal("not due after an hour")
	}
	unlock, ok := LockAuto(dir)
	if !ok {
		t.Fatal("lock refused")
	}
	if _, ok := LockAuto(dir); ok {
		t.Fatal("two trims hold the lock")
	}
	unlock()
	if unlock, ok := LockAuto(dir); !ok {
		t.Fatal("lock not released")
	} else {
		unlock()
	}
}
