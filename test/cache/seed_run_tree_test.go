package cache_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A build script that reads files of its worktree outside its package
// without declaring them (it declares only build.rs) is run anew by plain
// cargo in a fresh worktree, on that tree's files. Seeding must not copy
// a donor's run that read other content (package seed's path.go, the run
// rule): the donor ran the script at an older commit and Cargo did not
// rerun it after the commit moved; the donor has an uncommitted edit; the
// donor has an ignored file the new tree lacks; a file was edited before
// the run and reverted after it. A clean donor's run is still seeded.
// Twins: the scenario's seeded worktree, built with grove, must print
// what a fresh worktree built with plain cargo prints. Each case but the
// clean one fails on the code before the rule, which seeded the donor's
// run whenever both trees had the same HEAD and the same package files.
func TestSeededRunReadsTreeTwin(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"Cargo.toml": "[workspace]\nmembers = [\"app\"]\nresolver = \"2\"\n",
		".gitignore": "target/\n.env\n",
		"shared/x":   "C1\n",
		"app/Cargo.toml": `[package]
name = "app"
version = "0.1.0"
edition = "2021"
`,
		"app/build.rs": `fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let x = std::fs::read_to_string("../shared/x").unwrap();
    let env = std::fs::read_to_string("../.env").unwrap_or_else(|_| "none".into());
    println!("cargo:rustc-env=SHARED={}", x.trim());
    println!("cargo:rustc-env=DOTENV={}", env.trim());
}
`,
		"app/src/main.rs": "fn main() { println!(\"{} {}\", env!(\"SHARED\"), env!(\"DOTENV\")); }\n",
	}
	for _, tc := range []struct {
		name string
		// donor changes the donor after its first build; it may build
		// it again.
		before func(t *testing.T, e *env, repo string)
		after  func(t *testing.T, e *env, repo string)
		seeds  bool // the run is seeded: the first build compiles nothing
	}{
		{name: "clean donor", seeds: true},
		{
			name: "committed change after the donor's run",
			after: func(t *testing.T, e *env, repo string) {
				edit(t, filepath.Join(repo, "shared/x"), "C2\n")
				git(t, repo, "commit", "-q", "-am", "C2")
				e.cargo(repo, true, "build") // Cargo does not rerun the script
			},
		},
		{
			name: "uncommitted edit in the donor",
			before: func(t *testing.T, e *env, repo string) {
				edit(t, filepath.Join(repo, "shared/x"), "dirty\n")
			},
		},
		{
			name: "edit reverted after the donor's run",
			before: func(t *testing.T, e *env, repo string) {
				edit(t, filepath.Join(repo, "shared/x"), "tmp\n")
			},
			after: func(t *testing.T, e *env, repo string) {
				edit(t, filepath.Join(repo, "shared/x"), "C1\n")
			},
		},
		{
			name: "ignored file only in the donor",
			before: func(t *testing.T, e *env, repo string) {
				edit(t, filepath.Join(repo, ".env"), "secret\n")
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			// Through the trampoline, which notes the environment a run
			// got: a member's run without that note is not seeded
			// (key/runenv.go).
			e.extra = []string{"GROVE_CACHE_BUILD_SCRIPTS=1"}
			repo := newRepo(t, files)
			// Detached, as the new worktrees are: a run is seeded only
			// into a tree with the same git HEAD, branch included
			// (key.GitHead).
			git(t, repo, "checkout", "-q", "--detach")
			if tc.before != nil {
				tc.before(t, e, repo)
			}
			e.cargo(repo, true, "build")
			if tc.after != nil {
				tc.after(t, e, repo)
			}

			plain := filepath.Join(t.TempDir(), "plain")
			git(t, repo, "worktree", "add", "-q", "--detach", plain)
			e.cargo(plain, false, "build")
			want := run(t, filepath.Join(plain, "target/debug/app"))

			seeded := filepath.Join(t.TempDir(), "seeded")
			git(t, repo, "worktree", "add", "-q", "--detach", seeded)
			cmd := exec.Command(groveBin, "seed", "--from", repo)
			cmd.Dir = seeded
			cmd.Env = append(os.Environ(), "GROVE_DIR="+e.store)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("grove seed: %v\n%s", err, out)
			}
			b := e.cargo(seeded, true, "build")
			got := run(t, filepath.Join(seeded, "target/debug/app"))
			if got != want {
				t.Errorf("seeded worktree's program prints %q, plain cargo's %q", got, want)
			}
			if tc.seeds && len(b.compiled) != 0 {
				t.Errorf("seeded first build of a clean donor's tree compiled %v, want nothing", b.compiled)
			}
			if strings.Contains(want, "dirty") || strings.Contains(want, "secret") {
				t.Errorf("plain cargo's fresh worktree read the donor's files: %q", want)
			}
		})
	}
}

// A script embeds the branch and the nearest tag (key.GitHead). Seeding a
// new worktree on a new branch at the donor's commit, or a detached one
// after a tag was added since the donor's run, must not hand it the
// donor's run: plain cargo in that tree embeds its own branch and tag.
// Both cases seeded the donor's run on the code that compared commits
// only.
func TestSeededRunGitHeadTwin(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"Cargo.toml":     "[workspace]\nmembers = [\"app\"]\nresolver = \"2\"\n",
		".gitignore":     "target/\n",
		"app/Cargo.toml": "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
		"app/build.rs": `use std::process::Command;
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
`,
		"app/src/main.rs": "fn main() { println!(\"{}\", env!(\"G_ALL\")); }\n",
	}
	for _, tc := range []struct {
		name string
		// donor prepares the donor before its build; after changes the
		// repository after it; add makes a worktree at dir.
		donor, after func(t *testing.T, repo string)
		add          func(t *testing.T, repo, dir string)
	}{
		{
			name: "new branch",
			add: func(t *testing.T, repo, dir string) {
				if _, err := exec.Command("git", "-C", repo, "rev-parse", "--verify", "-q", "refs/heads/feat").Output(); err != nil {
					git(t, repo, "branch", "feat")
				}
				git(t, repo, "worktree", "add", "-q", dir, "feat")
			},
		},
		{
			name:  "tag added after the donor's run",
			donor: func(t *testing.T, repo string) { git(t, repo, "checkout", "-q", "--detach") },
			after: func(t *testing.T, repo string) { git(t, repo, "tag", "v1") },
			add: func(t *testing.T, repo, dir string) {
				git(t, repo, "worktree", "add", "-q", "--detach", dir)
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.extra = append(e.extra, "GROVE_CACHE_BUILD_SCRIPTS=1")
			repo := newRepo(t, files)
			if tc.donor != nil {
				tc.donor(t, repo)
			}
			e.cargo(repo, true, "build")
			if tc.after != nil {
				tc.after(t, repo)
			}

			plain := filepath.Join(t.TempDir(), "plain")
			tc.add(t, repo, plain)
			e.cargo(plain, false, "build")
			want := run(t, filepath.Join(plain, "target/debug/app"))
			git(t, repo, "worktree", "remove", "--force", plain) // frees the branch

			seeded := filepath.Join(t.TempDir(), "seeded")
			tc.add(t, repo, seeded)
			cmd := exec.Command(groveBin, "seed", "--from", repo)
			cmd.Dir = seeded
			cmd.Env = append(os.Environ(), "GROVE_DIR="+e.store)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("grove seed: %v\n%s", err, out)
			}
			e.cargo(seeded, true, "build")
			if got := run(t, filepath.Join(seeded, "target/debug/app")); got != want {
				t.Errorf("seeded worktree's program prints %q, plain cargo's %q", got, want)
			}
		})
	}
}
