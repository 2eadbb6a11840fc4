package restore

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 7, case 27: a file grove writes into a target dir never follows a
// symlink planted at its name or at the name of its temp file (the old
// temp name, "<path>.grove-tmp-<pid>", was predictable), and leaves no
// temp file behind.
func TestWriteFileFollowsNoSymlink(t *testing.T) {
	for _, plant := range []string{"", "at the file's name", "at the old temp name"} {
		t.Run(plant, func(t *testing.T) {
			dir := t.TempDir()
			victim := filepath.Join(t.TempDir(), "victim")
			if err := os.WriteFile(victim, []byte("precious"), 0o644); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "app-0123.d")
			switch plant {
			case "at the file's name":
				os.Symlink(victim, path)
			case "at the old temp name":
				os.Symlink(victim, fmt.Sprintf("%s.grove-tmp-%d", path, os.Getpid()))
			}
			if err := writeFile(path, []byte("dep-info\n")); err != nil {
				t.Fatal(err)
			}
			if b, _ := os.ReadFile(victim); string(b) != "precious" {
				t.Errorf("the symlink's target was written: %q", b)
			}
			fi, err := os.Lstat(path)
			if err != nil || !fi.Mode().IsRegular() {
				t.Fatalf("%s is not a regular file: %v %v", path, fi, err)
			}
			if b, _ := os.ReadFile(path); string(b) != "dep-info\n" {
				t.Errorf("content %q", b)
			}
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				if strings.Contains(e.Name(), "grove-tmp") && e.Type()&os.ModeSymlink == 0 {
					t.Errorf("temp file left behind: %s", e.Name())
				}
			}
		})
	}
}
