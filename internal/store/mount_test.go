package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/grove-rs/grove/internal/testneed"
)

// mountScratch mounts a small file system for a test and unmounts it in
// t.Cleanup. It skips (with the reason) when that is not possible here: not
// root, no mkfs tool, or mount refused (a container without CAP_SYS_ADMIN).
func mountScratch(t *testing.T, kind string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		testneed.Missing(t, "root", "mounting a "+kind+" file system needs root")
	}
	dir := t.TempDir()
	mnt := filepath.Join(dir, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	var mount *exec.Cmd
	switch kind {
	case "xfs-reflink":
		mkfs, err := exec.LookPath("mkfs.xfs")
		if err != nil {
			testneed.Missing(t, "xfs", "no mkfs.xfs (apt-get install xfsprogs) for a reflink file system")
		}
		img := filepath.Join(dir, "xfs.img")
		if err := os.Truncate(img, 0); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		f, err := os.Create(img)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		// XFS needs at least 300 MB; the image is sparse.
		if err := os.Truncate(img, 512<<20); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(mkfs, "-q", "-m", "reflink=1", img).CombinedOutput(); err != nil {
			testneed.Missing(t, "xfs", fmt.Sprintf("mkfs.xfs failed: %v: %s", err, out))
		}
		mount = exec.Command("mount", "-o", "loop", img, mnt)
	case "tmpfs-1m":
		mount = exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt)
	default:
		t.Fatalf("unknown kind %s", kind)
	}
	if out, err := mount.CombinedOutput(); err != nil {
		testneed.Missing(t, "mount", fmt.Sprintf("cannot mount %s here: %v: %s", kind, err, out))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", mnt, err, out)
		}
	})
	return mnt
}

// On a file system with reflink, both ingest (link=false) and Materialize use
// FICLONE: distinct inodes, shared blocks, and the copy-on-write means
// writing to the materialized file in place cannot reach the blob.
func TestReflinkOnXFS(t *testing.T) {
	mnt := mountScratch(t, "xfs-reflink")
	s := mustOpen(t, filepath.Join(mnt, "store"))
	work := filepath.Join(mnt, "target")
	os.Mkdir(work, 0o755)
	src := filepath.Join(work, "libfoo.rlib")
	data := content(30, 4<<20)
	d := writeFile(t, src, data, 0o644)
	if err := s.PutBlob(src, d, false); err != nil {
		t.Fatal(err)
	}
	if sameInode(t, src, s.BlobPath(d)) {
		t.Fatal("link=false shared the inode")
	}
	assertMode(t, s.BlobPath(d), 0o644)

	dst := filepath.Join(work, "restored.rlib")
	m, err := s.Materialize(d, dst, true) // reflink is tried before hardlink
	if err != nil {
		t.Fatal(err)
	}
	if m != MethodReflink {
		t.Fatalf("method %s on XFS reflink=1, want reflink", m)
	}
	if sameInode(t, dst, s.BlobPath(d)) {
		t.Fatal("reflink shares the blob's inode")
	}
	assertFileContent(t, dst, data)
	assertMode(t, dst, 0o644)

	// Overwrite dst in place (what a careless tool might do): CoW keeps the
	// blob's bytes.
	f, err := os.OpenFile(dst, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(make([]byte, 1<<20), 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if got, _ := hashFile(s.BlobPath(d)); got != d {
		t.Fatal("writing to a reflinked file changed the blob")
	}
	// Still one blob in the store: the write went to the clone only.
	if blobs, _ := checkStoreIntegrity(t, s); blobs != 1 {
		t.Fatalf("%d blobs after writing the clone, want 1", blobs)
	}
}

// With the store on a full file system, PutBlob and PutObject fail with an
// error and leave no partial entry at a final name and nothing in tmp/; the
// store keeps working once there is room.
func TestFullDisk(t *testing.T) {
	mnt := mountScratch(t, "tmpfs-1m")
	s := mustOpen(t, filepath.Join(mnt, "store"))
	src := filepath.Join(t.TempDir(), "big.rlib") // another file system: link fails with EXDEV
	data := content(31, 4<<20)
	d := writeFile(t, src, data, 0o644)

	err := s.PutBlob(src, d, true)
	if err == nil {
		t.Fatal("PutBlob of 4 MB into a 1 MB file system succeeded")
	}
	t.Logf("PutBlob: %v", err)
	if _, err := os.Lstat(s.BlobPath(d)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("partial blob at final name: %v", err)
	}
	if err := s.PutObject("entries", "0123456789abcdef", content(32, 2<<20)); err == nil {
		t.Fatal("PutObject of 2 MB into a 1 MB file system succeeded")
	}
	if _, err := s.GetObject("entries", "0123456789abcdef"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("partial object at final name: %v", err)
	}
	if names := tmpEntries(t, s); len(names) != 0 {
		t.Fatalf("failed writes left temp files: %v", names)
	}
	assertMode(t, src, 0o644) // src was neither linked nor chmod'ed

	small := filepath.Join(t.TempDir(), "small")
	ds := writeFile(t, small, content(33, 10_000), 0o644)
	if err := s.PutBlob(small, ds, true); err != nil {
		t.Fatalf("store unusable after ENOSPC: %v", err)
	}
	checkStoreIntegrity(t, s)
}

// Restoring into a target dir on another file system than the store: no
// reflink, no hard link (EXDEV), so Materialize copies, even when hard links
// are allowed.
func TestMaterializeAcrossFileSystems(t *testing.T) {
	mnt := mountScratch(t, "tmpfs-1m")
	s := mustOpen(t, t.TempDir())
	src := filepath.Join(t.TempDir(), "src")
	data := content(34, 100_000)
	d := writeFile(t, src, data, 0o755)
	if err := s.PutBlob(src, d, true); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(mnt, "out")
	m, err := s.Materialize(d, dst, true)
	if err != nil {
		t.Fatal(err)
	}
	if m != MethodCopy {
		t.Fatalf("method %s across file systems, want copy", m)
	}
	assertFileContent(t, dst, data)
	assertMode(t, dst, 0o755)
	if leftovers, _ := filepath.Glob(filepath.Join(mnt, ".grove-tmp-*")); len(leftovers) != 0 {
		t.Fatalf("temp files left: %v", leftovers)
	}
}
