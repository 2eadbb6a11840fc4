package cache_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Git state is keyed only for runs that read git's dirs (key/githead.go).

// A script that never looks at git is replayed on another branch at the
// same commit; the files of the commit still count: a tree at a commit
// that changed a tracked file outside the package the script reads runs
// it anew. The replay on branch b failed on the code that keyed every
// path package's run on the branch.
func TestBuildRunNoGitAnyBranch(t *testing.T) {
	t.Parallel()
	build := `fn main() {
    let shared = std::fs::read_to_string("../shared/s.txt").unwrap();
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-env=G_ALL={}", shared.trim());
}
`
	files := scriptCrate(build, "pub fn show() -> String { env!(\"G_ALL\").to_string() }\n",
		map[string]string{"shared/s.txt": "x1\n"})
	tw := newTwin(t, files)
	cacheRuns(tw)
	tw.both(func(s *side) {
		s.git("a", "checkout", "-q", "main")
		s.git("b", "checkout", "-q", "b")
	})
	log := &runLog{s: tw.grove}
	tw.step("a: build on main", huntRun("a"))
	log.expect(t, "a", "", "g")
	tw.step("b: build on branch b, same commit", huntRun("b"))
	log.expect(t, "b", "g", "")
	tw.both(func(s *side) {
		s.addWorktree("c")
		s.write("c", map[string]string{"shared/s.txt": "x2\n"})
		s.git("c", "commit", "-qam", "shared")
	})
	tw.step("c: a commit changed a tracked file the script reads", huntRun("c"))
	log.expect(t, "c", "", "g")
}

// A script that lists every branch reads refs the branch HEAD is on does
// not name: a branch added anywhere reruns it; a tree with the same refs
// replays it. (The detached HEAD's line, naming the twins' two commits,
// is left out of what it prints.)
func TestBuildRunGitBranchList(t *testing.T) {
	t.Parallel()
	build := `use std::process::Command;
fn main() {
    let o = Command::new("git").args(["branch", "--list", "--format=%(refname:short)"]).output().unwrap();
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-env=G_ALL={}", String::from_utf8(o.stdout).unwrap().lines().filter(|l| !l.starts_with('(')).collect::<Vec<_>>().join(","));
}
`
	files := scriptCrate(build, "pub fn show() -> String { env!(\"G_ALL\").to_string() }\n", nil)
	tw := newTwin(t, files)
	cacheRuns(tw)
	log := &runLog{s: tw.grove}
	tw.step("a: build", huntRun("a"))
	log.expect(t, "a", "", "g")
	tw.both(func(s *side) {
		s.git("a", "branch", "zz")
		s.addWorktree("c")
	})
	tw.step("c: a branch was added", huntRun("c"))
	log.expect(t, "c", "", "g")
	tw.both(func(s *side) { s.addWorktree("d") })
	tw.step("d: same HEAD and refs as c", huntRun("d"))
	log.expect(t, "d", "g", "")
}

// Seeding a new worktree on a new branch hands over the donor's run of a
// script that read no git: the first build compiles nothing, and the
// program is plain cargo's. Failed on the code that seeded runs only
// between trees with the same branch.
func TestSeededRunNoGitNewBranch(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"Cargo.toml":     "[workspace]\nmembers = [\"app\"]\nresolver = \"2\"\n",
		".gitignore":     "target/\n",
		"app/Cargo.toml": "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
		"app/build.rs": `fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-env=G_ALL={}", std::fs::read_to_string("build.rs").unwrap().len());
}
`,
		"app/src/main.rs": "fn main() { println!(\"{}\", env!(\"G_ALL\")); }\n",
	}
	e := newEnv(t)
	e.extra = append(e.extra, "GROVE_CACHE_BUILD_SCRIPTS=1")
	repo := newRepo(t, files)
	e.cargo(repo, true, "build")

	plain := filepath.Join(t.TempDir(), "plain")
	git(t, repo, "worktree", "add", "-q", "-b", "p", plain)
	e.cargo(plain, false, "build")
	want := run(t, filepath.Join(plain, "target/debug/app"))

	seeded := filepath.Join(t.TempDir(), "seeded")
	git(t, repo, "worktree", "add", "-q", "-b", "x", seeded)
	cmd := exec.Command(groveBin, "seed", "--from", repo)
	cmd.Dir = seeded
	cmd.Env = append(os.Environ(), "GROVE_DIR="+e.store)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("grove seed: %v\n%s", err, out)
	}
	b := e.cargo(seeded, true, "build")
	if got := run(t, filepath.Join(seeded, "target/debug/app")); got != want {
		t.Errorf("seeded worktree's program prints %q, plain cargo's %q", got, want)
	}
	if len(b.compiled) != 0 {
		t.Errorf("seeded first build on a new branch compiled %v, want nothing", b.compiled)
	}
}
