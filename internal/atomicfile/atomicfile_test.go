package atomicfile

import (
	"os"
	"os/exec"
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

// WriteOutput's file has the mode open(2) gives under the umask, like a
// file the shell creates beside it; Write's has exactly the mode asked.
func TestWriteOutputFollowsTheUmask(t *testing.T) {
	dir := t.TempDir()
	if err := exec.Command("sh", "-c", "umask 002; : > "+filepath.Join(dir, "probe")).Run(); err != nil {
		t.Skip("no sh")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", "umask 002 && exec \"$0\" -test.run=TestHelperWriteOutput", self)
	cmd.Env = append(os.Environ(), "ATOMICFILE_HELPER_DIR="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for name, want := range map[string]os.FileMode{"out": 0o664, "prog": 0o775, "exact": 0o644} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %v, want %v", name, got, want)
		}
	}
}

func TestHelperWriteOutput(t *testing.T) {
	dir := os.Getenv("ATOMICFILE_HELPER_DIR")
	if dir == "" {
		t.Skip("helper")
	}
	for _, err := range []error{
		WriteOutput(filepath.Join(dir, "out"), []byte("x"), false),
		WriteOutput(filepath.Join(dir, "prog"), []byte("x"), true),
		Write(filepath.Join(dir, "exact"), []byte("x"), 0o644),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
}
