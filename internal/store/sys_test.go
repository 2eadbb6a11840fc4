package store

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

// Tests of the platform primitives (sys.go) through their portable
// signatures: they run on every OS, each against that OS's implementation,
// and the fallbacks (linkNoReplace) are called directly, so the path macOS or
// an old kernel would take is exercised on Linux too.

// cloneDir returns a directory on a file system that clones files, or skips:
// on Linux a loop-mounted XFS with reflink=1 (root and xfsprogs needed), on
// macOS the temp dir (APFS).
func cloneDir(t *testing.T) string {
	t.Helper()
	switch runtime.GOOS {
	case "linux":
		return mountScratch(t, "xfs-reflink")
	case "darwin":
		return t.TempDir()
	}
	t.Skipf("no known cloning file system on %s", runtime.GOOS)
	return ""
}

// old is a source mtime no fresh file can have.
var old = time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)

// oldReadOnlyFile writes a 0444 file dated old, as a blob looks.
func oldReadOnlyFile(t *testing.T, path string, data []byte) {
	t.Helper()
	writeFile(t, path, data, 0o444)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
}

// checkClone checks cloneNew's contract for a dst it returned.
func checkClone(t *testing.T, src, dst string, f *os.File, perm fs.FileMode, start time.Time, data []byte) {
	t.Helper()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if sameInode(t, src, dst) {
		t.Fatal("clone shares the source's inode")
	}
	assertFileContent(t, dst, data)
	fi, err := os.Stat(dst)
	if err != nil {
		t.Fatal(err)
	}
	if m := fi.Mode().Perm(); m&^perm != 0 || m&0o200 == 0 {
		t.Errorf("clone mode %v, want %v or narrower and owner-writable (not the source's 0444)", m, perm)
	}
	// Whole seconds: macOS stamps with futimes (microseconds).
	if mt := fi.ModTime(); mt.Before(start.Truncate(time.Second)) {
		t.Errorf("clone mtime %v is older than the clone (%v): a clone must look fresh", mt, start)
	}
	if fi, err := os.Stat(src); err != nil || !fi.ModTime().Equal(old) {
		t.Errorf("source mtime changed: %v, %v", fi.ModTime(), err)
	}
	// Its own inode: writing to the clone leaves the source's bytes alone.
	w, err := os.OpenFile(dst, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteAt(make([]byte, 4096), 0); err != nil {
		t.Fatal(err)
	}
	w.Close()
	assertFileContent(t, src, data)
}

// On a cloning file system, cloneNew makes a fresh private file: own inode,
// the asked mode, a fresh mtime, though the source is read-only and old
// (a macOS clone copies both, so the implementation must reset them).
func TestCloneNewIsFreshAndPrivate(t *testing.T) {
	dir := cloneDir(t)
	src := filepath.Join(dir, "src")
	data := content(40, 1<<20)
	oldReadOnlyFile(t, src, data)
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	start := time.Now()
	dst := filepath.Join(dir, "dst")
	f, err := cloneNew(in, dst, 0o644)
	if err != nil {
		t.Fatalf("cloneNew on a cloning file system: %v", err)
	}
	checkClone(t, src, dst, f, 0o644, start, data)
	if !mayReflink(dir) {
		t.Error("mayReflink is false on a file system that clones")
	}
}

// Where the file system cannot clone, cloneNew fails and leaves no dst, so
// that the caller can create dst itself and copy.
func TestCloneNewFailsCleanly(t *testing.T) {
	var dir string
	switch runtime.GOOS {
	case "linux":
		dir = mountScratch(t, "tmpfs-1m")
	default:
		t.Skipf("no known non-cloning file system to mount on %s", runtime.GOOS)
	}
	if mayReflink(dir) {
		t.Error("mayReflink is true on tmpfs")
	}
	src := filepath.Join(dir, "src")
	oldReadOnlyFile(t, src, content(41, 10_000))
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	dst := filepath.Join(dir, "dst")
	if f, err := cloneNew(in, dst, 0o644); err == nil {
		f.Close()
		t.Fatal("cloneNew succeeded on tmpfs")
	}
	if _, err := os.Lstat(dst); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("failed cloneNew left dst: %v", err)
	}
	// Another file system than src's: the same.
	other := filepath.Join(t.TempDir(), "dst")
	if f, err := cloneNew(in, other, 0o644); err == nil {
		f.Close()
		t.Fatal("cloneNew across file systems succeeded")
	}
	if _, err := os.Lstat(other); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("failed cloneNew left dst: %v", err)
	}
}

// Through the store's API: a blob ingested and restored by clone is a fresh
// file both times, whatever the source's mtime, as a copy would be.
func TestCloneRestoreIsFresh(t *testing.T) {
	dir := cloneDir(t)
	s := mustOpen(t, filepath.Join(dir, "store"))
	src := filepath.Join(dir, "libold.rlib")
	data := content(42, 2<<20)
	oldReadOnlyFile(t, src, data)
	d := digestOf(data)
	start := time.Now()
	if err := s.PutBlob(src, d, false); err != nil {
		t.Fatal(err)
	}
	fi, err := s.BlobStat(d)
	if err != nil {
		t.Fatal(err)
	}
	if fi.ModTime().Before(start.Truncate(time.Second)) {
		t.Errorf("cloned blob kept the source's mtime %v", fi.ModTime())
	}
	assertMode(t, s.BlobPath(d), 0o644)

	// Date the blob back, then restore it: the clone must not carry that date.
	if err := os.Chtimes(s.BlobPath(d), old, old); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "target", "libold.rlib")
	os.MkdirAll(filepath.Dir(dst), 0o755)
	start = time.Now()
	m, err := s.Materialize(d, dst, true)
	if err != nil {
		t.Fatal(err)
	}
	if m != MethodReflink {
		t.Fatalf("method %s on a cloning file system, want %s", m, MethodReflink)
	}
	assertMode(t, dst, 0o644)
	assertFileContent(t, dst, data)
	if fi, err := os.Stat(dst); err != nil || fi.ModTime().Before(start.Truncate(time.Second)) {
		t.Errorf("restored clone mtime %v (%v), want fresh", fi.ModTime(), err)
	}
	if fi, err := os.Stat(s.BlobPath(d)); err != nil || !fi.ModTime().Equal(old) {
		t.Errorf("restoring re-dated the blob: %v, %v", fi.ModTime(), err)
	}
}

// renameNoReplace on this OS and file system: renames onto a free name,
// refuses (fs.ErrExist) an existing one without touching either file; or
// says it cannot (errNoExclusiveRename) and does nothing.
func TestRenameNoReplace(t *testing.T) {
	dir := t.TempDir()
	a, b, final := filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "final")
	writeFile(t, a, []byte("a"), 0o444)
	writeFile(t, b, []byte("b"), 0o444)
	err := renameNoReplace(a, final)
	if errors.Is(err, errNoExclusiveRename) {
		if _, err := os.Lstat(a); err != nil {
			t.Fatalf("renameNoReplace said unsupported but moved the file: %v", err)
		}
		t.Skip("no exclusive rename on this file system; publish uses linkNoReplace (TestLinkNoReplace)")
	}
	if err != nil {
		t.Fatal(err)
	}
	assertFileContent(t, final, []byte("a"))
	if _, err := os.Lstat(a); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("source still there after rename: %v", err)
	}
	if err := renameNoReplace(b, final); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("rename onto an existing name: %v, want fs.ErrExist", err)
	}
	assertFileContent(t, final, []byte("a"))
	assertFileContent(t, b, []byte("b"))
}

// linkNoReplace is publish's fallback where no exclusive rename exists (a
// file system without it, an old kernel): called directly here so that the
// path runs on every machine.
func TestLinkNoReplace(t *testing.T) {
	dir := t.TempDir()
	final := filepath.Join(dir, "final")
	a := filepath.Join(dir, "a")
	writeFile(t, a, []byte("a"), 0o444)
	ino := statT(t, a).Ino
	if err := linkNoReplace(a, final); err != nil {
		t.Fatal(err)
	}
	if statT(t, final).Ino != ino {
		t.Fatal("final is not the published file's inode")
	}
	if _, err := os.Lstat(a); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("temp name still there after publish: %v", err)
	}

	b := filepath.Join(dir, "b")
	writeFile(t, b, []byte("b"), 0o444)
	if err := linkNoReplace(b, final); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("publish onto an existing name: %v, want fs.ErrExist", err)
	}
	if statT(t, final).Ino != ino {
		t.Fatal("an existing final was replaced")
	}
	assertFileContent(t, b, []byte("b")) // left for the caller to remove
}

// Many writers publishing the same name through the fallback at once: one
// wins, every other is told fs.ErrExist, and the name keeps the winner's
// inode (callers remember a blob's inode and mtime).
func TestLinkNoReplaceRace(t *testing.T) {
	dir := t.TempDir()
	final := filepath.Join(dir, "final")
	const n = 16
	tmps := make([]string, n)
	inos := make([]uint64, n)
	for i := range tmps {
		tmps[i] = filepath.Join(dir, "tmp"+string(rune('a'+i)))
		writeFile(t, tmps[i], []byte("same content"), 0o444)
		inos[i] = statT(t, tmps[i]).Ino
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range tmps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = linkNoReplace(tmps[i], final)
		}()
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Fatalf("writers %d and %d both published", winner, i)
			}
			winner = i
		case !errors.Is(err, fs.ErrExist):
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no writer published")
	}
	if got := statT(t, final).Ino; got != inos[winner] {
		t.Fatalf("final has inode %d, the winner's is %d", got, inos[winner])
	}
}
