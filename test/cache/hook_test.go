package cache_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Issue 9, item 1: seeding is the default. `grove init` installs the
// post-checkout hook, chaining the hook already there, so every
// `git worktree add` is seeded; a worktree whose donor is busy falls back
// to the wrapper path with one line saying so; `grove off` puts the old
// hook back byte for byte; `--no-hook` installs none.
func TestInitSeedsNewWorktrees(t *testing.T) {
	t.Parallel()
	needRegistry(t)
	files := fixture()
	files[".cargo/config.toml"] = registryConfig
	files["alpha/Cargo.toml"] += "\n[dependencies]\ncfg-if = \"1\"\nitoa = \"1\"\n"
	files["alpha/src/lib.rs"] += "\npub fn itoa_len() -> usize { itoa::Buffer::new().format(12345).len() }\n"
	e := newEnv(t)
	e.extra = []string{"PATH=" + filepath.Dir(groveBin) + string(os.PathListSeparator) + os.Getenv("PATH")}
	repo := newRepo(t, files)
	mine := "#!/bin/sh\necho mine > .mine-ran\n"
	hookPath := filepath.Join(repo, ".git", "hooks", "post-checkout")
	os.MkdirAll(filepath.Dir(hookPath), 0o755)
	if err := os.WriteFile(hookPath, []byte(mine), 0o755); err != nil {
		t.Fatal(err)
	}
	grove := func(dir string, args ...string) string {
		t.Helper()
		cmd := exec.Command(groveBin, args...)
		cmd.Dir = dir
		cmd.Env = append(append(os.Environ(), "GROVE_DIR="+e.store), e.extra...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("grove %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	addWorktree := func(name string) (string, string) {
		t.Helper()
		wt := filepath.Join(t.TempDir(), name)
		cmd := exec.Command("git", "worktree", "add", "-q", "-b", name, wt)
		cmd.Dir = repo
		cmd.Env = append(append(os.Environ(), "GROVE_DIR="+e.store), e.extra...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git worktree add: %v\n%s", err, out)
		}
		return wt, string(out)
	}

	e.cargo(repo, true, "build")
	early, _ := addWorktree("early")
	out := grove(repo, "init")
	if !strings.Contains(out, "post-checkout") {
		t.Errorf("grove init does not mention the hook:\n%s", out)
	}
	// A worktree made before the hook: one line says it is not seeded.
	if n := strings.Count(out, "not seeded"); n != 1 || !strings.Contains(out, early) {
		t.Errorf("grove init should say in one line that %s is not seeded:\n%s", early, out)
	}

	wt, out := addWorktree("seeded")
	if !strings.Contains(out, "grove: seeded") {
		t.Errorf("git worktree add did not seed:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(wt, ".mine-ran")); err != nil {
		t.Errorf("the user's own post-checkout hook did not run: %v", err)
	}
	b := e.cargo(wt, true, "build")
	for _, c := range b.compiled {
		if c == "cfg_if" || c == "itoa" {
			t.Errorf("hook-seeded worktree rebuilt dependency %s", c)
		}
	}

	// The donors are busy: one line, and the build falls back to the cache.
	var fds []int
	for _, d := range []string{repo, wt} {
		fd, err := unix.Open(filepath.Join(d, "target", "debug", ".cargo-lock"), unix.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
			t.Fatal(err)
		}
		fds = append(fds, fd)
	}
	busy, out := addWorktree("busy")
	for _, fd := range fds {
		unix.Close(fd)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.HasPrefix(l, "grove:") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "not seeded") {
		t.Errorf("busy donor: want one line saying the worktree is not seeded, got:\n%s", out)
	}
	if got := e.cargo(busy, true, "build"); got.count("miss") != 0 {
		t.Errorf("busy-donor worktree: misses %v (the cache should serve it)", got.crates("miss"))
	}

	if out := grove(repo, "off"); !strings.Contains(out, "post-checkout") {
		t.Errorf("grove off does not mention the hook:\n%s", out)
	}
	if got, _ := os.ReadFile(hookPath); string(got) != mine {
		t.Errorf("after grove off the hook is %q, want the user's %q", got, mine)
	}
	if _, err := os.Stat(hookPath + ".grove-chained"); err == nil {
		t.Error("chained hook left behind")
	}
	os.Remove(hookPath)
	grove(repo, "init", "--no-hook")
	if _, err := os.Stat(hookPath); err == nil {
		t.Error("grove init --no-hook installed a hook")
	}
}
