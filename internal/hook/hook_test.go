package hook

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func gitRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("git", "init", "-q", dir).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	return dir
}

// Install and Remove with no hook, the user's own hook (chained, then put
// back byte for byte), and the hook an older grove wrote (replaced, not
// chained; removed by Remove).
func TestInstallRemove(t *testing.T) {
	ctx := context.Background()
	const mine = "#!/bin/sh\necho mine\n"
	const legacy = "#!/bin/sh\n# grove: seed the target dir of a new worktree from a built one.\ngrove seed --quiet || true\n"
	for _, c := range []struct {
		name, before string
		chained      bool
	}{
		{"none", "", false},
		{"user's hook", mine, true},
		{"older grove hook", legacy, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			repo := gitRepo(t)
			path := filepath.Join(repo, ".git", "hooks", Name)
			os.Remove(path)
			if c.before != "" {
				os.MkdirAll(filepath.Dir(path), 0o755)
				os.WriteFile(path, []byte(c.before), 0o755)
			}
			got, changed, err := Install(ctx, repo)
			if err != nil || got != path || !changed {
				t.Fatalf("Install = %q, %v, %v", got, changed, err)
			}
			if b, _ := os.ReadFile(path); string(b) != Script {
				t.Fatalf("hook is %q", b)
			}
			_, err = os.Stat(filepath.Join(repo, ".git", "hooks", Chained))
			if (err == nil) != c.chained {
				t.Fatalf("chained hook present: %v, want %v", err == nil, c.chained)
			}
			if ok, _ := Installed(ctx, repo); !ok {
				t.Fatal("Installed = false")
			}
			if _, changed, err := Install(ctx, repo); err != nil || changed {
				t.Fatalf("second Install changed %v, %v", changed, err)
			}
			if _, changed, err := Remove(ctx, repo); err != nil || !changed {
				t.Fatalf("Remove = %v, %v", changed, err)
			}
			b, err := os.ReadFile(path)
			switch {
			case c.chained && string(b) != c.before:
				t.Fatalf("after Remove the hook is %q, want the user's", b)
			case !c.chained && err == nil:
				t.Fatalf("after Remove a hook is left: %q", b)
			}
			if _, changed, _ := Remove(ctx, repo); changed {
				t.Fatal("second Remove changed something")
			}
		})
	}
}

// A hooks dir set with core.hooksPath (husky's committed .husky/, or a dir
// shared by repositories) is not written: Install says what to add.
func TestInstallLeavesHooksPathAlone(t *testing.T) {
	repo := gitRepo(t)
	if out, err := exec.Command("git", "-C", repo, "config", "core.hooksPath", ".husky").CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	os.MkdirAll(filepath.Join(repo, ".husky"), 0o755)
	_, changed, err := Install(context.Background(), repo)
	if !errors.Is(err, ErrHooksPath) || changed {
		t.Fatalf("Install = %v, %v; want ErrHooksPath", changed, err)
	}
	if ents, _ := os.ReadDir(filepath.Join(repo, ".husky")); len(ents) != 0 {
		t.Fatalf("wrote into .husky: %v", ents)
	}
}
