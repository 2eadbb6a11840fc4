package key

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/grove-rs/grove/internal/filehash"
)

// The rest of the tree (treestate.go): a run's key holds what git reports
// beyond the commit, outside the package and the target dir, so a tree
// with another uncommitted, untracked or ignored file outside the package
// does not replay another tree's run; another worktree or target dir
// nested in the tree changes nothing.
func TestBuildRunTreeState(t *testing.T) {
	base := t.TempDir()
	a := filepath.Join(base, "a")
	gitT := func(dir string, args ...string) {
		t.Helper()
		if out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	write := func(root string, files map[string]string) {
		t.Helper()
		for p, c := range files {
			full := filepath.Join(root, p)
			os.MkdirAll(filepath.Dir(full), 0o755)
			if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(a, map[string]string{
		".gitignore": "/target/\n/bin/\nlocal.cfg\n/cache/\n/.wt/\n",
		"p/build.rs": "fn main(){}", "shared/s.txt": "1",
	})
	gitT(base, "init", "-q", "-b", "main", a)
	gitT(a, "add", "-A")
	gitT(a, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
	n := 0
	tree := func(edit func(root string)) string {
		t.Helper()
		n++
		root := filepath.Join(base, "wt", string(rune('a'+n)))
		gitT(a, "worktree", "add", "-q", "--detach", root)
		write(root, map[string]string{"target/CACHEDIR.TAG": "x", "bin/build-script": "ELF"})
		out := filepath.Join(root, "target/debug/build/p-1/out")
		os.MkdirAll(out, 0o755)
		if edit != nil {
			edit(root)
		}
		r, err := NewBuildRun(filepath.Join(root, "bin/build-script"), filepath.Join(root, "p"),
			[]string{"OUT_DIR=" + out, "CARGO_MANIFEST_DIR=" + filepath.Join(root, "p"), "PWD=" + root}, &filehash.Hasher{})
		if err != nil {
			t.Fatal(err)
		}
		return r.ArgKey
	}
	clean := tree(nil)
	for _, c := range []struct {
		name string
		edit func(root string)
		same bool
	}{
		{"another clean worktree", nil, true},
		{"a tracked file outside the package edited", func(r string) { write(r, map[string]string{"shared/s.txt": "2"}) }, false},
		{"a tracked file outside the package deleted", func(r string) { os.Remove(filepath.Join(r, "shared/s.txt")) }, false},
		{"an untracked file", func(r string) { write(r, map[string]string{"notes.txt": "x"}) }, false},
		{"an ignored file", func(r string) { write(r, map[string]string{"local.cfg": "x"}) }, false},
		{"a file in an ignored dir", func(r string) { write(r, map[string]string{"cache/k": "x"}) }, false},
		{"a nested worktree", func(r string) { write(r, map[string]string{".worktrees/x/.git": "gitdir: y", ".worktrees/x/f": "x"}) }, true},
		{"an ignored dir holding only worktrees", func(r string) { write(r, map[string]string{".wt/x/.git": "gitdir: y", ".wt/x/f": "x"}) }, true},
		{"an untracked target dir", func(r string) { write(r, map[string]string{"tdir/CACHEDIR.TAG": "x", "tdir/debug/f": "x"}) }, true},
		{"a file in the target dir", func(r string) { write(r, map[string]string{"target/debug/g.h": "x"}) }, true},
	} {
		if got := tree(c.edit) == clean; got != c.same {
			t.Errorf("%s: same key %v, want %v", c.name, got, c.same)
		}
	}

	// A run that writes into the tree outside its package is not stored.
	root := filepath.Join(base, "wt", "w")
	gitT(a, "worktree", "add", "-q", "--detach", root)
	write(root, map[string]string{"target/CACHEDIR.TAG": "x", "bin/build-script": "ELF"})
	out := filepath.Join(root, "target/debug/build/p-1/out")
	os.MkdirAll(out, 0o755)
	r, err := NewBuildRun(filepath.Join(root, "bin/build-script"), filepath.Join(root, "p"),
		[]string{"OUT_DIR=" + out, "CARGO_MANIFEST_DIR=" + filepath.Join(root, "p"), "PWD=" + root}, &filehash.Hasher{})
	if err != nil {
		t.Fatal(err)
	}
	if r.PackageChanged() {
		t.Error("changed before the run wrote anything")
	}
	write(root, map[string]string{"include/g.h": "int g;"})
	if !r.PackageChanged() {
		t.Error("a write into the tree outside the package is not seen")
	}
}
