package gitwatch

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// TestWatch: a child that reads git state (git itself, or a plain read of
// HEAD, in the main and in a linked worktree) is seen; one that reads only
// the tree's files is not.
func TestWatch(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("inotify is Linux's")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	repo := t.TempDir()
	git(t, repo, "init", "-q", "-b", "main")
	if err := os.WriteFile(filepath.Join(repo, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	git(t, repo, "add", "f")
	git(t, repo, "commit", "-qm", "c")
	linked := filepath.Join(t.TempDir(), "wt")
	git(t, repo, "worktree", "add", "-q", "-b", "x", linked)
	tests := []struct {
		name, tree, script string
		read, moved        bool
	}{
		{"no git", repo, "cat f >/dev/null", false, false},
		{"no git linked", linked, "cat f >/dev/null; ls >/dev/null", false, false},
		{"git rev-parse", repo, "git rev-parse --abbrev-ref HEAD", true, false},
		{"git rev-parse linked", linked, "git rev-parse --abbrev-ref HEAD", true, false},
		{"read HEAD", repo, "cat .git/HEAD", true, false},
		{"list branches", linked, "ls " + filepath.Join(repo, ".git/refs/heads"), true, false},
		{"new branch", linked, "git branch y$$", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dirs, err := Dirs(tt.tree)
			if err != nil {
				t.Fatal(err)
			}
			w, err := Start(dirs)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			cmd := exec.Command("sh", "-c", tt.script)
			cmd.Dir = tt.tree
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", tt.script, err, out)
			}
			if got := w.Result(); got.Read != tt.read || got.Moved != tt.moved {
				t.Errorf("%s: got %+v, want read %v moved %v", tt.script, got, tt.read, tt.moved)
			}
		})
	}
}
