package diskuse

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/grove-rs/grove/internal/testneed"
)

func TestBytesCountsEachInodeOnce(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a")
	b := filepath.Join(dir, "b")
	if err := os.MkdirAll(a, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(b, 0o755); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 256*1024)
	for i := range data {
		data[i] = byte(i)
	}
	if err := os.WriteFile(filepath.Join(a, "f"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	one, err := Bytes(a)
	if err != nil {
		t.Fatal(err)
	}
	if one < int64(len(data)) {
		t.Fatalf("Bytes(a) = %d, want at least %d", one, len(data))
	}
	if err := os.Link(filepath.Join(a, "f"), filepath.Join(b, "f")); err != nil {
		testneed.Missing(t, "hardlink", err)
	}
	both, err := Bytes(a, b)
	if err != nil {
		t.Fatal(err)
	}
	emptyDir, err := Bytes(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// b adds one directory inode, not a second copy of the file.
	if both > one+emptyDir {
		t.Errorf("hardlinked file counted twice: a=%d a+b=%d (empty dir %d)", one, both, emptyDir)
	}
	again, err := Bytes(a, a)
	if err != nil {
		t.Fatal(err)
	}
	if again != one {
		t.Errorf("same tree twice: %d, want %d", again, one)
	}
}

func TestBytesMissingPath(t *testing.T) {
	n, err := Bytes(filepath.Join(t.TempDir(), "nope"))
	if err != nil || n != 0 {
		t.Fatalf("Bytes(missing) = %d, %v; want 0, nil", n, err)
	}
}
