package key

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// GitHead tells apart every state of HEAD a script can see at one commit:
// branch, detached, another branch, a tag added, a tag moved; and is the
// same for the same state.
func TestGitHead(t *testing.T) {
	needTool(t, "git")
	repo := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", repo}, args...)...)
		cmd.Env = append(cmd.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	if GitHead(repo) != "" {
		t.Error("not a repository: git state keyed")
	}
	git("init", "-q", "-b", "main")
	git("commit", "-q", "--allow-empty", "-m", "one")
	git("commit", "-q", "--allow-empty", "-m", "two")
	seen := map[string]string{}
	for _, step := range []struct {
		name string
		do   []string
	}{
		{"on main", nil},
		{"on another branch", []string{"checkout", "-q", "-b", "feat"}},
		{"detached", []string{"checkout", "-q", "--detach"}},
		{"tag added", []string{"tag", "v1"}},
		{"tag moved", []string{"tag", "-f", "v1", "HEAD~1"}},
		{"annotated tag", []string{"tag", "-a", "-m", "v2", "v2"}},
	} {
		if step.do != nil {
			git(step.do...)
		}
		h := GitHead(repo)
		if h == "" {
			t.Fatalf("%s: no git state", step.name)
		}
		if prev, ok := seen[h]; ok {
			t.Errorf("%s: same git state as %s:\n%s", step.name, prev, h)
		}
		seen[h] = step.name
		if again := GitHead(filepath.Join(repo, ".")); again != h {
			t.Errorf("%s: two reads differ", step.name)
		}
	}
}
