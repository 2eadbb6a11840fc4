package cache_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/grove-rs/grove/internal/testneed"
)

// A `cargo check` stores metadata-only units; a later `cargo build` must
// never be served those (--emit is keyed), and must produce a working binary.
func TestCheckThenBuild(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	repo := newRepo(t, fixture())
	e.cargo(repo, true, "check")
	b := e.cargo(repo, true, "build")
	for _, crate := range []string{"alpha", "beta", "app"} {
		if !slices.Contains(b.crates("miss"), crate) {
			t.Errorf("build after check: %s not compiled (hits %v)", crate, b.crates("hit"))
		}
	}
	if got := run(t, filepath.Join(repo, "target/debug/app")); !strings.Contains(got, "names=AB") {
		t.Errorf("binary prints %q", got)
	}
	// And check after build in a clean dir is served check units, not build ones.
	os.RemoveAll(filepath.Join(repo, "target"))
	b = e.cargo(repo, true, "check")
	if b.count("miss") != 0 {
		t.Errorf("second check: misses %v", b.crates("miss"))
	}
}

// Another toolchain (nightly) must never be served stable's units.
func TestToolchainIsKeyed(t *testing.T) {
	t.Parallel()
	if err := exec.Command("rustup", "run", "nightly", "rustc", "-V").Run(); err != nil {
		testneed.Missing(t, "nightly", err)
	}
	e := newEnv(t)
	repo := newRepo(t, fixture())
	e.cargo(repo, true, "build")
	os.RemoveAll(filepath.Join(repo, "target"))
	b := e.cargo(repo, true, "+nightly", "build")
	if b.count("hit") != 0 {
		t.Errorf("nightly build served stable units: %v", b.crates("hit"))
	}
	if got := run(t, filepath.Join(repo, "target/debug/app")); !strings.Contains(got, "names=AB") {
		t.Errorf("binary prints %q", got)
	}
	os.RemoveAll(filepath.Join(repo, "target"))
	b = e.cargo(repo, true, "+nightly", "build")
	if b.count("miss") != 0 {
		t.Errorf("second nightly build: misses %v", b.crates("miss"))
	}
}

// The same commit in a worktree at another path, and a target dir at
// another path, are served entirely from the store: no path is in the key.
func TestOtherPathsHit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	repo := newRepo(t, fixture())
	e.cargo(repo, true, "build")
	want := run(t, filepath.Join(repo, "target/debug/app"))

	wt := filepath.Join(t.TempDir(), "elsewhere", "a-worktree-with-a-longer-path")
	git(t, repo, "worktree", "add", "-q", "-b", "other", wt)
	b := e.cargo(wt, true, "build")
	if b.count("miss") != 0 {
		t.Errorf("worktree at another path: misses %v", b.crates("miss"))
	}
	if got := run(t, filepath.Join(wt, "target/debug/app")); got != want {
		t.Errorf("worktree binary prints %q, want %q", got, want)
	}

	tgt := filepath.Join(t.TempDir(), "custom-target")
	e.extra = []string{"CARGO_TARGET_DIR=" + tgt}
	b = e.cargo(repo, true, "build")
	if b.count("miss") != 0 {
		t.Errorf("target dir at another path: misses %v", b.crates("miss"))
	}
	if got := run(t, filepath.Join(tgt, "debug/app")); got != want {
		t.Errorf("binary prints %q, want %q", got, want)
	}
	// dep-info must name this tree, never the tree that compiled first.
	ds, _ := filepath.Glob(filepath.Join(tgt, "debug/deps/*.d"))
	for _, d := range ds {
		b, _ := os.ReadFile(d)
		if strings.Contains(string(b), filepath.Join(repo, "target")) {
			t.Errorf("%s names another target dir:\n%s", d, b)
		}
	}
}

// cargo test through the cache gives the same results as plain cargo, and
// a second run in a clean target dir compiles nothing.
func TestCargoTestIdentical(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	repo := newRepo(t, fixture())
	summary := func(out string) string {
		var lines []string
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "test ") {
				l, _, _ = strings.Cut(l, "; finished in")
				lines = append(lines, l)
			}
		}
		slices.Sort(lines)
		return strings.Join(lines, "\n")
	}
	testCmd := func(grove bool, target string) string {
		cmd := exec.Command("cargo", "test", "-q")
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "GROVE_DIR="+e.store, "CARGO_TARGET_DIR="+target)
		if grove {
			cmd.Env = append(cmd.Env, "RUSTC_WRAPPER="+groveBin)
		} else {
			cmd.Env = append(cmd.Env, "RUSTC_WRAPPER=")
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("cargo test: %v\n%s", err, out)
		}
		return summary(string(out))
	}
	plain := testCmd(false, filepath.Join(t.TempDir(), "plain"))
	first := testCmd(true, filepath.Join(t.TempDir(), "g1"))
	before := len(mustEvents(t, e))
	second := testCmd(true, filepath.Join(t.TempDir(), "g2"))
	evs := mustEvents(t, e)[before:]
	if plain != first || plain != second {
		t.Errorf("test results differ:\nplain:\n%s\ngrove:\n%s\ngrove (cached):\n%s", plain, first, second)
	}
	for _, ev := range evs {
		if ev.Kind == "miss" {
			t.Errorf("cached cargo test compiled %s", ev.Crate)
		}
	}
}

// A dependency version bump in Cargo.lock (and Cargo.toml) misses; going
// back hits.
func TestDependencyBump(t *testing.T) {
	t.Parallel()
	needRegistry(t)
	for _, v := range []string{"cfg-if-0.1.10", "cfg-if-1.0.0"} {
		if _, err := os.Stat(filepath.Join("/usr/share/cargo/registry", v)); err != nil {
			testneed.Missing(t, "registry", "registry lacks "+v)
		}
	}
	files := fixture()
	files[".cargo/config.toml"] = registryConfig
	files["alpha/Cargo.toml"] += "\n[dependencies]\ncfg-if = \"0.1\"\n"
	e := newEnv(t)
	repo := newRepo(t, files)
	e.cargo(repo, true, "build")
	lock, _ := os.ReadFile(filepath.Join(repo, "Cargo.lock"))
	if !strings.Contains(string(lock), "0.1.10") {
		t.Fatalf("Cargo.lock does not pin cfg-if 0.1.10:\n%s", lock)
	}
	edit(t, filepath.Join(repo, "alpha/Cargo.toml"), strings.Replace(files["alpha/Cargo.toml"], `"0.1"`, `"1"`, 1))
	b := e.cargo(repo, true, "build")
	if !slices.Contains(b.crates("miss"), "cfg_if") || !slices.Contains(b.crates("miss"), "alpha") {
		t.Errorf("after bump: misses %v, want cfg_if and alpha", b.crates("miss"))
	}
	lock, _ = os.ReadFile(filepath.Join(repo, "Cargo.lock"))
	if !strings.Contains(string(lock), "1.0.0") {
		t.Fatalf("Cargo.lock not bumped:\n%s", lock)
	}
	edit(t, filepath.Join(repo, "alpha/Cargo.toml"), files["alpha/Cargo.toml"])
	os.RemoveAll(filepath.Join(repo, "target"))
	b = e.cargo(repo, true, "build")
	if b.count("miss") != 0 {
		t.Errorf("back to 0.1: misses %v", b.crates("miss"))
	}
}

// A path compiled into the output (env!("CARGO_MANIFEST_DIR")) must name
// this worktree: such a unit is never served across worktrees, while the
// rest of the workspace still is.
func TestEmbeddedPathIsNotShared(t *testing.T) {
	t.Parallel()
	files := fixture()
	files["app/src/bin/where.rs"] = "fn main() { println!(\"{}\", env!(\"CARGO_MANIFEST_DIR\")); }\n"
	e := newEnv(t)
	repo := newRepo(t, files)
	e.cargo(repo, true, "build")
	wt := filepath.Join(t.TempDir(), "other")
	git(t, repo, "worktree", "add", "-q", "-b", "other", wt)
	b := e.cargo(wt, true, "build")
	if got, want := run(t, filepath.Join(wt, "target/debug/where")), filepath.Join(wt, "app"); got != want {
		t.Errorf("where prints %q, want %q", got, want)
	}
	if !slices.Contains(b.crates("miss"), "where") {
		t.Errorf("where was served across worktrees (misses %v)", b.crates("miss"))
	}
	if slices.Contains(b.crates("miss"), "alpha") {
		t.Errorf("alpha missed (misses %v)", b.crates("miss"))
	}
}
