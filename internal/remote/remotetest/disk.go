package remotetest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/grove-rs/grove/internal/testneed"
)

// SmallDisk mounts a small ext4 file system of size bytes (a sparse image
// on a loop device) for a server's data, to fill it, and unmounts it when
// the test ends. ext4 rather than tmpfs: MinIO writes with O_DIRECT,
// which tmpfs refuses. It needs root.
func SmallDisk(t testing.TB, size int64) string {
	t.Helper()
	if os.Geteuid() != 0 {
		testneed.Missing(t, "root", "mounting a small disk needs root")
	}
	mkfs, err := exec.LookPath("mkfs.ext4")
	if err != nil {
		testneed.Missing(t, "mkfs.ext4", err)
	}
	base := t.TempDir()
	img, dir := filepath.Join(base, "disk.img"), filepath.Join(base, "disk")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Truncate(img, size); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(mkfs, "-q", "-F", img).CombinedOutput(); err != nil {
		testneed.Missing(t, "mkfs.ext4", fmt.Sprintf("%v: %s", err, out))
	}
	if out, err := exec.Command("mount", "-o", "loop", img, dir).CombinedOutput(); err != nil {
		testneed.Missing(t, "mount", fmt.Sprintf("cannot mount a loop device here: %v: %s", err, out))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}
