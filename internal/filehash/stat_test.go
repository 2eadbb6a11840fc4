package filehash

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// StatFile reads the memo key's fields from the platform's stat (their
// names and widths differ between Linux and macOS): each agrees with what
// the os package reports, and a metadata-only change moves ctime, so the
// memo key changes.
func TestStatFileFields(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("hello"), 0o640); err != nil {
		t.Fatal(err)
	}
	old := time.Date(2001, 2, 3, 4, 5, 6, 7000, time.UTC)
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
	st, err := StatFile(p)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	sys := fi.Sys().(*syscall.Stat_t)
	if st.Dev != uint64(sys.Dev) || st.Ino != uint64(sys.Ino) || st.Size != 5 {
		t.Errorf("identity %+v, os.Stat dev %d ino %d size %d", st, sys.Dev, sys.Ino, fi.Size())
	}
	if st.Mtime != old.UnixNano() || st.Mtime != fi.ModTime().UnixNano() {
		t.Errorf("Mtime %d, want %d", st.Mtime, old.UnixNano())
	}
	if os.FileMode(st.Mode).Perm() != fi.Mode().Perm() {
		t.Errorf("Mode %o, os.Stat %v", st.Mode, fi.Mode())
	}
	if st.Ctime < time.Now().Add(-time.Hour).UnixNano() {
		t.Errorf("Ctime %v is not the recent status change", time.Unix(0, st.Ctime))
	}

	time.Sleep(20 * time.Millisecond)
	if err := os.Chmod(p, 0o600); err != nil {
		t.Fatal(err)
	}
	after, err := StatFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if after.Ctime <= st.Ctime || after.Mtime != st.Mtime {
		t.Errorf("chmod: ctime %d -> %d, mtime %d -> %d; want only ctime to advance", st.Ctime, after.Ctime, st.Mtime, after.Mtime)
	}
	if after.memoKey() == st.memoKey() {
		t.Error("a metadata change left the memo key unchanged")
	}
}
