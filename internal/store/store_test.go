package store

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/grove-rs/grove/internal/testneed"
)

func TestOpenCreatesLayoutAndIsIdempotent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "store")
	s := mustOpen(t, dir)
	for _, sub := range []string{blobsDir, objectsDir, tmpDir, locksDir} {
		if fi, err := os.Stat(filepath.Join(dir, sub)); err != nil || !fi.IsDir() {
			t.Fatalf("%s not created: %v", sub, err)
		}
	}
	if s.Dir() != dir {
		t.Fatalf("Dir() = %q, want %q", s.Dir(), dir)
	}
	mustOpen(t, dir) // second open: fast path

	t.Chdir(filepath.Dir(dir))
	rel := mustOpen(t, "store")
	if rel.Dir() != dir {
		t.Fatalf("relative open: Dir() = %q, want %q", rel.Dir(), dir)
	}
}

func TestOpenRecreatesRemovedSubdirsLazily(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	// Someone deletes parts of the store: writers must recreate what they need.
	for _, sub := range []string{blobsDir, objectsDir, tmpDir, locksDir} {
		if err := os.RemoveAll(filepath.Join(s.Dir(), sub)); err != nil {
			t.Fatal(err)
		}
	}
	src := filepath.Join(t.TempDir(), "src")
	data := content(1, 1000)
	d := writeFile(t, src, data, 0o644)
	if err := s.PutBlob(src, d, false); err != nil {
		t.Fatal(err)
	}
	if err := s.PutObject("entries", "0123456789abcdef", []byte("x")); err != nil {
		t.Fatal(err)
	}
	unlock, err := s.LockKey(t.Context(), "0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	assertFileContent(t, s.BlobPath(d), data)

	// The fan-out dirs are made when a put's rename finds them missing,
	// for every kind of put: linked, copied, streamed, object.
	puts := []struct {
		name string
		put  func(src, digest string, data []byte) error
	}{
		{"linked", func(src, d string, _ []byte) error { return s.PutBlob(src, d, true) }},
		{"copied", func(src, d string, _ []byte) error { return s.PutBlob(src, d, false) }},
		{"streamed", func(_, d string, data []byte) error {
			return s.PutBlobFrom(d, bytes.NewReader(data), int64(len(data)), false, func() error { return nil })
		}},
	}
	for i, p := range puts {
		for _, sub := range []string{blobsDir, objectsDir} {
			if err := os.RemoveAll(filepath.Join(s.Dir(), sub)); err != nil {
				t.Fatal(err)
			}
		}
		src := filepath.Join(t.TempDir(), "src")
		data := content(uint64(10+i), 1000)
		d := writeFile(t, src, data, 0o644)
		if err := p.put(src, d, data); err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		assertFileContent(t, s.BlobPath(d), data)
		if err := s.PutObject("entries", "0123456789abcdef", []byte(p.name)); err != nil {
			t.Fatalf("%s: object: %v", p.name, err)
		}
		if got, err := s.GetObject("entries", "0123456789abcdef"); err != nil || string(got) != p.name {
			t.Fatalf("%s: object = %q, %v", p.name, got, err)
		}
	}
}

// Copy ingest: the blob is its own inode, with the blob mode, and src is untouched.
func TestPutBlobCopyRoundTrip(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	work := t.TempDir()
	src := filepath.Join(work, "libfoo.rlib")
	data := content(2, 300_000)
	d := writeFile(t, src, data, 0o644)

	if err := s.PutBlob(src, d, false); err != nil {
		t.Fatal(err)
	}
	blob := s.BlobPath(d)
	assertFileContent(t, blob, data)
	assertMode(t, blob, 0o644)
	assertMode(t, src, 0o644)
	if sameInode(t, src, blob) {
		t.Fatal("link=false: blob shares src's inode")
	}
	if want := filepath.Join(s.Dir(), "blobs", d[:2], d); blob != want {
		t.Fatalf("BlobPath = %s, want %s", blob, want)
	}

	dst := filepath.Join(work, "out.rlib")
	before := time.Now().Add(-time.Second)
	m, err := s.Materialize(d, dst, false)
	if err != nil {
		t.Fatal(err)
	}
	if m != MethodCopy && m != MethodReflink {
		t.Fatalf("Materialize(allowHardlink=false) = %s", m)
	}
	assertFileContent(t, dst, data)
	assertMode(t, dst, 0o644)
	if sameInode(t, dst, blob) {
		t.Fatal("allowHardlink=false: dst shares the blob's inode")
	}
	if fi, _ := os.Stat(dst); fi.ModTime().Before(before) {
		t.Fatalf("copy mtime %v is not now", fi.ModTime())
	}
	assertFileContent(t, blob, data)
	assertMode(t, blob, 0o644)
	if names := tmpEntries(t, s); len(names) != 0 {
		t.Fatalf("tmp/ not empty after put: %v", names)
	}
	leftovers, _ := filepath.Glob(filepath.Join(work, ".grove-tmp-*"))
	if len(leftovers) != 0 {
		t.Fatalf("temp files left beside dst: %v", leftovers)
	}
}

// Link ingest: the blob is src's inode, given the blob mode.
func TestPutBlobLinkSharesInode(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	work := t.TempDir()
	src := filepath.Join(work, "libfoo.rmeta")
	data := content(3, 50_000)
	d := writeFile(t, src, data, 0o644)

	if err := s.PutBlob(src, d, true); err != nil {
		t.Fatal(err)
	}
	blob := s.BlobPath(d)
	if !sameInode(t, src, blob) {
		t.Fatal("link=true: blob does not share src's inode")
	}
	assertMode(t, blob, 0o644)
	assertMode(t, src, 0o644) // same inode: the blob mode is a cargo output's
	assertFileContent(t, blob, data)
	if names := tmpEntries(t, s); len(names) != 0 {
		t.Fatalf("tmp/ not empty after put: %v", names)
	}
}

func TestExecutableBlobModes(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	work := t.TempDir()
	for _, link := range []bool{false, true} {
		src := filepath.Join(work, "build-script-build")
		os.Remove(src)
		data := content(4, 10_000)
		if link {
			data = content(5, 10_000)
		}
		d := writeFile(t, src, data, 0o755)
		if err := s.PutBlob(src, d, link); err != nil {
			t.Fatal(err)
		}
		assertMode(t, s.BlobPath(d), 0o755)
		dst := filepath.Join(work, "exe")
		if _, err := s.Materialize(d, dst, false); err != nil {
			t.Fatal(err)
		}
		assertMode(t, dst, 0o755)
	}
}

// A second PutBlob of an existing digest is a no-op: the blob's inode (which
// callers remember with its mtime) is not replaced.
func TestPutBlobExistingIsNoop(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	work := t.TempDir()
	data := content(6, 4096)
	a := filepath.Join(work, "a")
	d := writeFile(t, a, data, 0o644)
	if err := s.PutBlob(a, d, false); err != nil {
		t.Fatal(err)
	}
	before := statT(t, s.BlobPath(d))
	b := filepath.Join(work, "b")
	writeFile(t, b, data, 0o644)
	if err := s.PutBlob(b, d, true); err != nil {
		t.Fatal(err)
	}
	after := statT(t, s.BlobPath(d))
	if before.Ino != after.Ino {
		t.Fatal("existing blob was replaced")
	}
	assertMode(t, b, 0o644) // b was not linked, so not chmod'ed
}

func TestMaterializeHardlink(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	work := t.TempDir()
	src := filepath.Join(work, "src")
	data := content(7, 100_000)
	d := writeFile(t, src, data, 0o644)
	if err := s.PutBlob(src, d, false); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-48 * time.Hour).Truncate(time.Second)
	if err := os.Chtimes(s.BlobPath(d), old, old); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(work, "libfoo.rlib")
	m, err := s.Materialize(d, dst, true)
	if err != nil {
		t.Fatal(err)
	}
	if m != MethodHardlink && m != MethodReflink {
		t.Fatalf("method %s", m)
	}
	if m == MethodReflink {
		t.Skip("file system supports reflink; hard link path not exercised here")
	}
	if !sameInode(t, dst, s.BlobPath(d)) {
		t.Fatal("hardlink: dst does not share the blob's inode")
	}
	if fi, _ := os.Stat(dst); !fi.ModTime().Equal(old) {
		t.Fatalf("hardlink mtime %v, want the blob's %v", fi.ModTime(), old)
	}
	assertFileContent(t, dst, data)
}

// rustc and linkers replace outputs by writing a new file and renaming it
// over the old name. Doing that to a hard-linked dst must not touch the blob.
func TestHardlinkedDstReplacedKeepsBlob(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	work := t.TempDir()
	src := filepath.Join(work, "src")
	data := content(8, 100_000)
	d := writeFile(t, src, data, 0o644)
	if err := s.PutBlob(src, d, false); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(work, "libfoo.rlib")
	if m, err := s.Materialize(d, dst, true); err != nil || m != MethodHardlink {
		testneed.Missing(t, "hardlink", fmt.Sprintf("method %s, err %v", m, err))
	}
	tmp := filepath.Join(work, "libfoo.rlib.tmp")
	writeFile(t, tmp, content(9, 120_000), 0o644)
	if err := os.Rename(tmp, dst); err != nil {
		t.Fatal(err)
	}
	if got, _ := hashFile(s.BlobPath(d)); got != d {
		t.Fatal("replacing a hard-linked dst changed the blob")
	}
}

// A dst that is a hard link to a blob must be unlinked, not written through,
// even by root (who ignores modes), and the blob is owner-writable anyway.
func TestMaterializeDoesNotWriteThroughExistingLink(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	work := t.TempDir()
	a, b := content(10, 80_000), content(11, 90_000)
	srcA, srcB := filepath.Join(work, "a"), filepath.Join(work, "b")
	da := writeFile(t, srcA, a, 0o644)
	db := writeFile(t, srcB, b, 0o644)
	for _, p := range [][2]string{{srcA, da}, {srcB, db}} {
		if err := s.PutBlob(p[0], p[1], false); err != nil {
			t.Fatal(err)
		}
	}
	for _, allowHardlink := range []bool{false, true} {
		dst := filepath.Join(work, "out")
		os.Remove(dst)
		if err := os.Link(s.BlobPath(da), dst); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Materialize(db, dst, allowHardlink); err != nil {
			t.Fatal(err)
		}
		assertFileContent(t, dst, b)
		if got, _ := hashFile(s.BlobPath(da)); got != da {
			t.Fatalf("allowHardlink=%v: Materialize wrote through dst into blob A", allowHardlink)
		}
		if sameInode(t, dst, s.BlobPath(da)) {
			t.Fatal("dst still linked to blob A")
		}
		if !allowHardlink && sameInode(t, dst, s.BlobPath(db)) {
			t.Fatal("allowHardlink=false: dst shares blob B's inode")
		}
	}
}

func TestMaterializeMissingBlob(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	dst := filepath.Join(t.TempDir(), "out")
	os.WriteFile(dst, []byte("old"), 0o644)
	_, err := s.Materialize("0123456789abcdef", dst, true)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want ErrNotExist", err)
	}
	// A missing blob is found before dst is touched.
	assertFileContent(t, dst, []byte("old"))
}

func TestMaterializeIntoDirectoryFails(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	work := t.TempDir()
	src := filepath.Join(work, "src")
	d := writeFile(t, src, []byte("hello"), 0o644)
	if err := s.PutBlob(src, d, false); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(work, "dir")
	os.Mkdir(dst, 0o755)
	if _, err := s.Materialize(d, dst, false); err == nil {
		t.Fatal("Materialize over a directory succeeded")
	}
	if fi, err := os.Stat(dst); err != nil || !fi.IsDir() {
		t.Fatal("directory at dst was removed")
	}
}

func TestBlobStatAndRemove(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	src := filepath.Join(t.TempDir(), "src")
	data := content(12, 5000)
	d := writeFile(t, src, data, 0o644)
	if _, err := s.BlobStat(d); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("BlobStat of missing blob: %v", err)
	}
	if err := s.PutBlob(src, d, false); err != nil {
		t.Fatal(err)
	}
	fi, err := s.BlobStat(d)
	if err != nil || fi.Size() != int64(len(data)) {
		t.Fatalf("BlobStat = %v, %v", fi, err)
	}
	if err := s.RemoveBlob(d); err != nil {
		t.Fatal(err)
	}
	if _, err := s.BlobStat(d); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("blob still there after RemoveBlob: %v", err)
	}
	if err := s.RemoveBlob(d); err != nil {
		t.Fatalf("second RemoveBlob: %v", err)
	}
	// A removed blob can be stored again.
	if err := s.PutBlob(src, d, false); err != nil {
		t.Fatal(err)
	}
}

func TestInvalidNames(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	src := filepath.Join(t.TempDir(), "src")
	os.WriteFile(src, []byte("x"), 0o644)
	for _, bad := range []string{"", "abc", "../../etc/passwd", "0123456789ABCDEF", "0123456789abcdeg", "01234567/abcdef", strings.Repeat("a", 201)} {
		if err := s.PutBlob(src, bad, false); !errors.Is(err, ErrInvalidName) {
			t.Errorf("PutBlob(%q) = %v", bad, err)
		}
		if _, err := s.Materialize(bad, filepath.Join(t.TempDir(), "x"), true); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Materialize(%q) = %v", bad, err)
		}
		if err := s.PutObject("ns", bad, nil); !errors.Is(err, ErrInvalidName) {
			t.Errorf("PutObject key %q = %v", bad, err)
		}
		if _, err := s.LockKey(t.Context(), bad); !errors.Is(err, ErrInvalidName) {
			t.Errorf("LockKey(%q) = %v", bad, err)
		}
		_ = s.BlobPath(bad) // must not panic
	}
	for _, bad := range []string{"", ".", "..", "a/b", ".hidden", "a b"} {
		if _, err := s.GetObject(bad, "0123456789abcdef"); !errors.Is(err, ErrInvalidName) {
			t.Errorf("GetObject ns %q = %v", bad, err)
		}
	}
}

func TestGetObjectMissing(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	_, err := s.GetObject("entries", "0123456789abcdef")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want one wrapping fs.ErrNotExist", err)
	}
	if !strings.Contains(err.Error(), "store: get object entries/0123456789abcdef") {
		t.Fatalf("error lacks context: %v", err)
	}
}

func TestPutGetObjectReplace(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	const ns, key = "manifests", "fedcba9876543210"
	for _, v := range []string{`{"v":1}`, `{"v":2,"more":true}`, ``} {
		if err := s.PutObject(ns, key, []byte(v)); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetObject(ns, key)
		if err != nil || string(got) != v {
			t.Fatalf("GetObject = %q, %v; want %q", got, err, v)
		}
	}
	if want := filepath.Join(s.Dir(), "objects", ns, "fe", key); s.objectPath(ns, key) != want {
		t.Fatalf("object path %s, want %s", s.objectPath(ns, key), want)
	}
	if names := tmpEntries(t, s); len(names) != 0 {
		t.Fatalf("tmp/ not empty: %v", names)
	}
}

func TestTouchObject(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	const ns, key = "entries", "00112233445566778899"
	if err := s.PutObject(ns, key, []byte("e")); err != nil {
		t.Fatal(err)
	}
	path := s.objectPath(ns, key)
	mtime := func() time.Time {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.ModTime()
	}

	recent := time.Now().Add(-30 * time.Minute).Truncate(time.Second)
	os.Chtimes(path, recent, recent)
	s.TouchObject(ns, key)
	if !mtime().Equal(recent) {
		t.Fatal("TouchObject rewrote an mtime younger than an hour")
	}

	old := time.Now().Add(-3 * time.Hour)
	os.Chtimes(path, old, old)
	s.TouchObject(ns, key)
	if time.Since(mtime()) > time.Minute {
		t.Fatalf("TouchObject did not refresh an old mtime: %v", mtime())
	}

	s.TouchObject(ns, "ffffffffffffffff") // missing: no panic, no file
	if _, err := s.GetObject(ns, "ffffffffffffffff"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("TouchObject created a missing object")
	}
}

func TestCleanRemovesOnlyOldTemps(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	old := filepath.Join(s.Dir(), tmpDir, "blob-old")
	if err := os.WriteFile(old, content(13, 100_000), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	fresh := filepath.Join(s.Dir(), tmpDir, "blob-fresh")
	if err := os.WriteFile(fresh, content(14, 100_000), 0o600); err != nil {
		t.Fatal(err)
	}
	// A temp hard link to a file outside the store frees nothing when removed.
	outside := filepath.Join(t.TempDir(), "rlib")
	os.WriteFile(outside, content(15, 100_000), 0o644)
	linked := filepath.Join(s.Dir(), tmpDir, "blob-linked")
	if err := os.Link(outside, linked); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	os.WriteFile(fresh, content(14, 100_000), 0o600) // writer still active

	freed, err := s.Clean(250 * time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(old); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("old temp file kept")
	}
	if _, err := os.Stat(linked); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("old temp link kept")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Fatal("fresh temp file removed")
	}
	if freed < 100_000 || freed > 200_000 {
		t.Fatalf("freed %d bytes, want the one unlinked inode's ~100 KB", freed)
	}
	if _, err := os.Stat(outside); err != nil {
		t.Fatal("file outside the store removed")
	}
	if _, err := s.Clean(0); err != nil {
		t.Fatal(err)
	}
	if names := tmpEntries(t, s); len(names) != 0 {
		t.Fatalf("Clean(0) left %v", names)
	}
}
