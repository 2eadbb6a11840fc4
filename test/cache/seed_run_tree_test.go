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
			repo := newRepo(t, files)
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
