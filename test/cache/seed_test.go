package cache_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A seeded worktree's first build runs no rustc for dependencies (Cargo
// finds them fresh) and gets the workspace's own crates from the store;
// its second build is a no-op; and a worktree whose sources differ from
// the donor's still gets its own code.
func TestSeededWorktree(t *testing.T) {
	t.Parallel()
	needRegistry(t)
	files := fixture()
	files[".cargo/config.toml"] = registryConfig
	files["alpha/Cargo.toml"] += "\n[dependencies]\ncfg-if = \"1\"\nitoa = \"1\"\n"
	files["alpha/src/lib.rs"] += "\npub fn itoa_len() -> usize { itoa::Buffer::new().format(12345).len() }\n"
	e := newEnv(t)
	repo := newRepo(t, files)
	e.cargo(repo, true, "build")

	seedAndBuild := func(name string, change func(dir string)) (string, build) {
		wt := filepath.Join(t.TempDir(), name)
		git(t, repo, "worktree", "add", "-q", "-b", name, wt)
		if change != nil {
			change(wt)
		}
		cmd := exec.Command(groveBin, "seed")
		cmd.Dir = wt
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("grove seed: %v\n%s", err, out)
		} else if !strings.Contains(string(out), "seeded") {
			t.Fatalf("grove seed printed %q", out)
		}
		return wt, e.cargo(wt, true, "build")
	}

	wt, b := seedAndBuild("seeded", nil)
	for _, c := range b.compiled {
		if c == "cfg_if" || c == "itoa" || c == "cfg-if" {
			t.Errorf("seeded worktree rebuilt dependency %s", c)
		}
	}
	if b.count("miss") != 0 {
		t.Errorf("seeded worktree: misses %v", b.crates("miss"))
	}
	if got := run(t, filepath.Join(wt, "target/debug/app")); !strings.Contains(got, "names=AB") {
		t.Errorf("binary prints %q", got)
	}
	if b2 := e.cargo(wt, true, "build"); len(b2.compiled) != 0 {
		t.Errorf("second build after seeding compiled %v", b2.compiled)
	}

	// Other sources than the donor's: the member crates are never copied.
	changed, b := seedAndBuild("changed", func(dir string) {
		os.WriteFile(filepath.Join(dir, "alpha/src/a.rs"), []byte("pub const NAME: &str = \"S\";\n"), 0o644)
	})
	if !slices.Contains(b.crates("miss"), "alpha") {
		t.Errorf("changed worktree: alpha not compiled (misses %v)", b.crates("miss"))
	}
	if got := run(t, filepath.Join(changed, "target/debug/app")); !strings.Contains(got, "names=SB") {
		t.Errorf("changed worktree binary prints %q", got)
	}

	// Seeding a built target dir is refused.
	cmd := exec.Command(groveBin, "seed")
	cmd.Dir = wt
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "built already") {
		t.Errorf("seeding a built worktree: err %v, output %q", err, out)
	}
}
