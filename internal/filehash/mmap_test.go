package filehash

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// A file is hashed the same whether it is read or mapped, on both sides of
// the mapping threshold.
func TestHashContentMappedOrRead(t *testing.T) {
	dir := t.TempDir()
	for _, size := range []int{0, 1, mapThreshold - 1, mapThreshold, 3<<20 + 17} {
		data := bytes.Repeat([]byte("grove\x00"), size/6+1)[:size]
		p := filepath.Join(dir, "f")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := hashContent(p)
		if err != nil {
			t.Fatal(err)
		}
		if want := Bytes(data); got != want {
			t.Errorf("size %d: %s, want %s", size, got, want)
		}
	}
}

// A file that shrank under its mapping faults when the lost pages are
// touched: hashMapped reports that (ok false) instead of crashing, and
// hashContent then reads what is there.
func TestHashMappedShrunk(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skip("no mapping here")
	}
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, 4096); err != nil {
		t.Fatal(err)
	}
	if d, ok := hashMapped(f, fi); ok {
		t.Fatalf("hashMapped of a shrunk file: %s, ok", d)
	}
	got, err := hashContent(p)
	if err != nil {
		t.Fatal(err)
	}
	if want := Bytes(make([]byte, 4096)); got != want {
		t.Errorf("after the shrink: %s, want %s", got, want)
	}
}
