package cache_test

import (
	"os"
	"path/filepath"
	"testing"
)

// Build-script runs (GROVE_CACHE_BUILD_SCRIPTS=1) a new user's scripts
// tell apart from plain cargo, found hunting and closed by their class.

// The rest of the tree (key/treestate.go): a script reads files of its
// worktree outside its package without declaring them, a tracked one
// (b edits it, uncommitted) and a git-ignored one (c has its own). Plain
// cargo reads each tree's copy; grove replayed a's run.
func TestBuildRunUndeclaredTreeFiles(t *testing.T) {
	t.Parallel()
	build := `fn main() {
    let shared = std::fs::read_to_string("../shared/s.txt").unwrap();
    let local = std::fs::read_to_string("../local.cfg").unwrap_or_else(|_| "none".into());
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-env=G_ALL={}/{}", shared.trim(), local.trim());
}
`
	files := scriptCrate(build, "pub fn show() -> String { env!(\"G_ALL\").to_string() }\n",
		map[string]string{"shared/s.txt": "x1\n", ".gitignore": "target/\nlocal.cfg\n"})
	tw := newTwin(t, files)
	cacheRuns(tw)
	log := &runLog{s: tw.grove}
	tw.both(func(s *side) { s.addWorktree("c"); s.addWorktree("d") })
	tw.step("a: build", huntRun("a"))
	log.expect(t, "a", "", "g")
	tw.both(func(s *side) { s.write("b", map[string]string{"shared/s.txt": "x2\n"}) })
	tw.step("b: tracked file outside the package edited", huntRun("b"))
	log.expect(t, "b", "", "g")
	tw.both(func(s *side) { s.write("c", map[string]string{"local.cfg": "c\n"}) })
	tw.step("c: ignored file outside the package", huntRun("c"))
	log.expect(t, "c", "", "g")
	tw.step("d: same tree as a", huntRun("d"))
	log.expect(t, "d", "g", "")
}

// Writes outside OUT_DIR: a script copies a header into the profile dir
// (key/runwrites.go), another writes into the workspace outside its
// package (key/treestate.go). Plain cargo leaves both files in b; a replay
// wrote neither.
func TestBuildRunWritesOutsideOutDir(t *testing.T) {
	t.Parallel()
	build := `use std::path::PathBuf;
fn main() {
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let prof = out.ancestors().nth(3).unwrap().to_path_buf();
    std::fs::write(prof.join("g.h"), "int g(void);\n").unwrap();
    if std::path::Path::new("../ws").exists() {
        std::fs::create_dir_all("../include").unwrap();
        std::fs::write("../include/g.h", "int g(void);\n").unwrap();
    }
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-env=G_ALL=ok");
}
`
	files := scriptCrate(build, "pub fn show() -> String { env!(\"G_ALL\").to_string() }\n",
		map[string]string{".gitignore": "target/\ninclude/\n"})
	tw := newTwin(t, files)
	cacheRuns(tw)
	written := func(wt string) func(s *side) string {
		return func(s *side) string {
			out := huntRun(wt)(s)
			for _, p := range []string{"target/debug/g.h", "include/g.h"} {
				_, err := os.Stat(filepath.Join(s.wt(wt), p))
				out += "\n" + p + map[bool]string{true: " present", false: " missing"}[err == nil]
			}
			return out
		}
	}
	tw.step("a: build", written("a"))
	tw.step("b: build", written("b"))
	tw.both(func(s *side) {
		s.write("a", map[string]string{"ws": "1\n"})
		s.git("a", "add", "-A")
		s.git("a", "commit", "-qm", "ws")
		s.addWorktree("c")
		s.addWorktree("d")
	})
	tw.step("c: build, writes into the workspace", written("c"))
	tw.step("d: build", written("d"))
}

func huntRun(wt string) func(s *side) string {
	return func(s *side) string { return s.cargo(wt, "build") + "\n" + s.run(wt, "target/debug/app") }
}

// Git's HEAD beyond the commit (key.GitHead): a script embeds the branch
// (`git rev-parse --abbrev-ref HEAD`) and the nearest tag (`git describe
// --tags`). b is a worktree on its own branch at a's commit; c and d are
// detached at it, d after a tag was added. Plain cargo embeds each tree's
// own; grove replayed a's run into b, and c's into d.
func TestBuildRunGitBranchAndTags(t *testing.T) {
	t.Parallel()
	build := `use std::process::Command;
fn git(args: &[&str]) -> String {
    match Command::new("git").args(args).output() {
        Ok(o) if o.status.success() => String::from_utf8(o.stdout).unwrap().trim().to_string(),
        _ => "none".to_string(),
    }
}
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-env=G_ALL={}/{}", git(&["rev-parse", "--abbrev-ref", "HEAD"]), git(&["describe", "--tags"]));
}
`
	files := scriptCrate(build, "pub fn show() -> String { env!(\"G_ALL\").to_string() }\n", nil)
	tw := newTwin(t, files)
	cacheRuns(tw)
	tw.both(func(s *side) { // back on their branches
		s.git("a", "checkout", "-q", "main")
		s.git("b", "checkout", "-q", "b")
	})
	log := &runLog{s: tw.grove}
	tw.step("a: build on main", huntRun("a"))
	log.expect(t, "a", "", "g")
	tw.step("b: build on branch b, same commit", huntRun("b"))
	log.expect(t, "b", "", "g")
	tw.both(func(s *side) { s.addWorktree("c") })
	tw.step("c: build detached, same commit", huntRun("c"))
	log.expect(t, "c", "", "g")
	tw.both(func(s *side) {
		s.git("a", "tag", "v1")
		s.addWorktree("d")
	})
	tw.step("d: build detached, after a tag", huntRun("d"))
	log.expect(t, "d", "", "g")
	tw.both(func(s *side) { s.addWorktree("e") })
	tw.step("e: same HEAD and tags as d", huntRun("e"))
	log.expect(t, "e", "g", "")
}
