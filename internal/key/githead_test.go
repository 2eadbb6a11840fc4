package key

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/grove-rs/grove/internal/record"
)

// A candidate that read no git matches on any branch; one that read git
// matches only a tree whose GitHead (commit, branch, every ref) is the one
// it recorded; the entry key binds the recorded state.
func TestBuildRunMatchesGitState(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	repo := t.TempDir()
	g := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", repo}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	g("init", "-q", "-b", "main")
	if err := os.WriteFile(filepath.Join(repo, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	g("add", "f")
	g("commit", "-qm", "c")
	onMain := GitHead(repo)
	g("branch", "other")
	withOther := GitHead(repo)
	g("checkout", "-q", "other")
	onOther := GitHead(repo)
	if onMain == withOther || withOther == onOther || onMain == "" {
		t.Fatalf("GitHead does not tell a new branch or HEAD's branch: %q %q %q", onMain, withOther, onOther)
	}
	str := func(s string) *string { return &s }
	tests := []struct {
		name string
		git  *string
		want bool
	}{
		{"read no git", nil, true},
		{"read git, same state", str(onOther), true},
		{"read git on main", str(onMain), false},
		{"read git before a branch was added", str(withOther), false},
		{"read git outside a repository", str(""), false},
	}
	r := &BuildRun{tree: repo, Norm: NewNormalizer(map[string]string{Cwd: repo})}
	keys := map[string]bool{}
	for _, tt := range tests {
		c := record.Candidate{Git: tt.git}
		if got := r.Matches(c); got != tt.want {
			t.Errorf("%s: Matches = %v, want %v", tt.name, got, tt.want)
		}
		keys[r.EntryKey(c)] = true
	}
	if len(keys) != len(tests) {
		t.Errorf("entry keys of %d candidates with different git states: %d distinct", len(tests), len(keys))
	}
}
