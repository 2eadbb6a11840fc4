package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

// A symlink or a hardlink at the destination is replaced, never written
// through; the mode is the one asked for.
func TestNeverWritesThrough(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("keep"), 0o644)
	for name, plant := range map[string]func(string) error{
		"symlink":  func(p string) error { return os.Symlink(victim, p) },
		"hardlink": func(p string) error { return os.Link(victim, p) },
	} {
		for _, w := range []func(string) error{
			func(p string) error { return Write(p, []byte("new"), 0o640) },
			func(p string) error {
				src := filepath.Join(dir, "src")
				os.WriteFile(src, []byte("new"), 0o600)
				return Copy(src, p, 0o640)
			},
		} {
			p := filepath.Join(dir, name)
			os.Remove(p)
			if err := plant(p); err != nil {
				t.Fatal(err)
			}
			if err := w(p); err != nil {
				t.Fatal(err)
			}
			if b, _ := os.ReadFile(victim); string(b) != "keep" {
				t.Fatalf("%s: written through to the victim: %q", name, b)
			}
			fi, err := os.Lstat(p)
			if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o640 {
				t.Fatalf("%s: result %v %v", name, fi.Mode(), err)
			}
			if b, _ := os.ReadFile(p); string(b) != "new" {
				t.Fatalf("%s: content %q", name, b)
			}
		}
	}
}
