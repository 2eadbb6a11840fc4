package treewatch

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/grove-rs/grove/internal/filehash"
)

func mkdirs(t *testing.T, root string, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func rel(root string, dirs []string) []string {
	var out []string
	for _, d := range dirs {
		r, _ := filepath.Rel(root, d)
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

// TestDirs: every dir but skipped ones; a dir made after the list was
// cached is found; a dir removed is dropped.
func TestDirs(t *testing.T) {
	root := t.TempDir()
	mkdirs(t, root, "a/b", "target/debug", ".git/refs")
	cache := filepath.Join(t.TempDir(), "cache")
	skip := func(d string) bool { return filepath.Base(d) == ".git" || filepath.Base(d) == "target" }
	got, err := Dirs(root, skip, cache)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{".", "a", "a/b"}; !slices.Equal(rel(root, got), want) {
		t.Fatalf("got %v, want %v", rel(root, got), want)
	}
	mkdirs(t, root, "a/b/c", "d")
	if err := os.Remove(filepath.Join(root, "a/b/c")); err != nil {
		t.Fatal(err)
	}
	mkdirs(t, root, "a/b/e")
	got, err = Dirs(root, skip, cache)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{".", "a", "a/b", "a/b/e", "d"}; !slices.Equal(rel(root, got), want) {
		t.Fatalf("got %v, want %v", rel(root, got), want)
	}
}

// TestDirsTooMany: a tree over MaxDirs is refused, not cut short.
func TestDirsTooMany(t *testing.T) {
	root := t.TempDir()
	for i := 0; i <= MaxDirs; i++ {
		mkdirs(t, root, filepath.Join("d", strconv.Itoa(i)))
	}
	if _, err := Dirs(root, func(string) bool { return false }, ""); err != ErrTooMany {
		t.Fatalf("got %v, want ErrTooMany", err)
	}
}

// TestDirsLeavesIgnoredOut: a frontend's node_modules, ignored by git,
// neither counts towards MaxDirs nor is watched; a dir not ignored is.
func TestDirsLeavesIgnoredOut(t *testing.T) {
	root := t.TempDir()
	if out, err := exec.Command("git", "-C", root, "init", "-q").CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	for i := 0; i <= MaxDirs; i++ {
		mkdirs(t, root, filepath.Join("web/node_modules", strconv.Itoa(i)))
	}
	mkdirs(t, root, "web/src", "templates")
	if err := os.WriteFile(filepath.Join(root, ".gitignore"), []byte("node_modules/\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dirs, err := Dirs(root, func(d string) bool { return filepath.Base(d) == ".git" }, "")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rel(root, dirs), []string{".", "templates", "web", "web/src"}; !slices.Equal(got, want) {
		t.Errorf("dirs = %v, want %v", got, want)
	}
}

// TestDirsCachedListsNothing: once cached, finding an unchanged tree's
// dirs lists none of them, so the watch of a compile running beside it
// does not see listings that are grove's own.
func TestDirsCachedListsNothing(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("inotify is Linux's")
	}
	root := t.TempDir()
	mkdirs(t, root, "a/b", "c")
	cache := filepath.Join(t.TempDir(), "cache")
	skip := func(string) bool { return false }
	dirs, err := Dirs(root, skip, cache)
	if err != nil {
		t.Fatal(err)
	}
	// Old enough to be trusted: the cache keeps stamps of dirs older
	// than the clock lag only.
	time.Sleep(5 * filehash.ClockLag)
	if _, err := Dirs(root, skip, cache); err != nil { // cache the old stamps
		t.Fatal(err)
	}
	w, err := Start(dirs)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := Dirs(root, skip, cache); err != nil {
		t.Fatal(err)
	}
	r, err := w.Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Listed)+len(r.Opened) != 0 || r.Wrote != "" {
		t.Errorf("a cached Dirs was seen: %+v", r)
	}
}

// Two Dirs of one tree at once, as the first compiles of a fresh tree
// start: the second waits for the first's cache (the lock beside it), so
// it lists nothing that the first one's watch would take for reads.
func TestDirsOneListingAtATime(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("flock and inotify are Linux's here")
	}
	root := t.TempDir()
	mkdirs(t, root, "a/b", "c")
	cache := filepath.Join(t.TempDir(), "cache")
	skip := func(string) bool { return false }
	l, err := os.OpenFile(cache+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := unix.Flock(int(l.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := Dirs(root, skip, cache)
		done <- err
	}()
	select {
	case <-done:
		t.Fatal("Dirs listed the tree while another process held the listing lock")
	case <-time.After(200 * time.Millisecond):
	}
	unix.Flock(int(l.Fd()), unix.LOCK_UN)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Dirs still waits after the lock was released")
	}
}

// TestResult: what a child does in the tree, as Reads.
func TestResult(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("inotify is Linux's")
	}
	tests := []struct {
		name, script   string
		opened, listed []string
		wrote          bool
	}{
		{"nothing", "test -f t/x.txt", nil, nil, false},
		{"read a file", "cat t/x.txt >/dev/null", []string{"t/x.txt"}, nil, false},
		{"read a root file", "cat r.txt >/dev/null", []string{"r.txt"}, nil, false},
		{"list a dir", "ls t >/dev/null", nil, []string{"t"}, false},
		{"write a file", "echo y >t/new", nil, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			mkdirs(t, root, "t")
			for _, f := range []string{"t/x.txt", "r.txt"} {
				if err := os.WriteFile(filepath.Join(root, f), []byte("x"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			dirs, err := Dirs(root, func(string) bool { return false }, "")
			if err != nil {
				t.Fatal(err)
			}
			w, err := Start(dirs)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			cmd := exec.Command("sh", "-c", tt.script)
			cmd.Dir = root
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			r, err := w.Result()
			if err != nil {
				t.Fatal(err)
			}
			if (r.Wrote != "") != tt.wrote {
				t.Errorf("wrote %q, want %v", r.Wrote, tt.wrote)
			}
			if tt.wrote {
				return
			}
			if got := rel(root, r.Opened); !slices.Equal(got, tt.opened) {
				t.Errorf("opened %v, want %v", got, tt.opened)
			}
			if got := rel(root, r.Listed); !slices.Equal(got, tt.listed) {
				t.Errorf("listed %v, want %v", got, tt.listed)
			}
		})
	}
}
