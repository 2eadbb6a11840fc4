package cache_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// localizeRepo is a workspace of three members in a chain (base, mid on
// base, app on both), base with generic code that app instantiates, app
// slow enough to compile that a build can arrive while the batch runs.
// (The slow code is in the leaf: seed leaves a lib to Cargo when its
// dependency's codegen ended after it, pipelined on the metadata; and a
// lib instantiating another member's generics names that member's files
// in its metadata, which seed refuses too.)
func localizeRepo(t *testing.T) string {
	var slow strings.Builder
	for i := 0; i < 1500; i++ {
		fmt.Fprintf(&slow, "pub fn s%d(x: u64) -> u64 { (0..x).map(|i| i * %d).filter(|v| v %% 3 == 0).sum() }\n", i, i)
	}
	return newRepo(t, map[string]string{
		"Cargo.toml":      "[workspace]\nresolver = \"2\"\nmembers = [\"base\", \"mid\", \"app\"]\n",
		"base/Cargo.toml": "[package]\nname = \"base\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
		"base/src/lib.rs": "pub fn twice<T: Clone>(x: T) -> (T, T) { (x.clone(), x) }\npub fn k() -> u64 { 7 }\n",
		"mid/Cargo.toml":  "[package]\nname = \"mid\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nbase = { path = \"../base\" }\n",
		"mid/src/lib.rs":  "pub fn m(x: u64) -> u64 { base::k() * x }\n",
		"app/Cargo.toml":  "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nbase = { path = \"../base\" }\nmid = { path = \"../mid\" }\n",
		"app/src/main.rs": "mod slow;\nfn main() { let (a, _) = base::twice(\"x\".to_string()); println!(\"{} {} {}\", a, mid::m(5), slow::s3(4)); }\n",
		"app/src/slow.rs": slow.String(),
		".gitignore":      "target/\n",
	})
}

// seedTree adds a worktree of repo and seeds it, with warming on or off,
// and returns it and what seed printed.
func seedTree(t *testing.T, e *env, repo, name string, warm bool) (string, string) {
	t.Helper()
	wt := filepath.Join(t.TempDir(), name)
	git(t, repo, "worktree", "add", "-q", "--detach", wt)
	cmd := exec.Command(groveBin, "seed", "--from", repo)
	cmd.Dir = wt
	cmd.Env = append(os.Environ(), "GROVE_DIR="+e.store)
	if warm {
		cmd.Env = append(append(cmd.Env, "GROVE_WARM_INCREMENTAL=1"), e.extra...)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("grove seed: %v\n%s", err, out)
	}
	if warm && !strings.Contains(string(out), "incremental state in the background") {
		t.Fatalf("grove seed warmed nothing:\n%s", out)
	}
	t.Logf("grove seed: %s", out)
	return wt, string(out)
}

// namesTree reports which member outputs in wt's deps/ hold the path dir.
func namesTree(t *testing.T, wt, dir string) []string {
	t.Helper()
	var hits []string
	for _, pat := range []string{"libbase-*.rlib", "libmid-*.rlib", "libbase-*.rmeta", "libmid-*.rmeta", "app-*"} {
		files, _ := filepath.Glob(filepath.Join(wt, "target/debug/deps", pat))
		for _, f := range files {
			if strings.Contains(strings.TrimPrefix(filepath.Base(f), "lib"), ".") && !strings.HasSuffix(f, ".rlib") && !strings.HasSuffix(f, ".rmeta") {
				continue // dep-info, grove's marks
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(b, []byte(dir+"/")) {
				hits = append(hits, filepath.Base(f))
			}
		}
	}
	return hits
}

// The seeded members are compiled again in the new tree in the background
// and replace the donor's outputs (package incr, batch.go): afterwards no
// member output names the donor, the tree's build is a no-op, and edits of
// any member build and run as with plain cargo.
func TestSeededMembersLocalized(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.extra = append(e.extra, "GROVE_WARM_INCREMENTAL=1")
	repo := localizeRepo(t)
	git(t, repo, "checkout", "-q", "--detach")
	e.cargo(repo, true, "build")
	if hits := namesTree(t, repo, repo); len(hits) == 0 {
		t.Fatal("the donor's outputs do not name the donor: the test shows nothing")
	}

	wt, _ := seedTree(t, e, repo, "b", true)
	waitWarm(t, wt)
	if hits := namesTree(t, wt, repo); len(hits) > 0 {
		t.Errorf("after the background compiles, outputs still name the donor: %v", hits)
	}
	if b := e.cargo(wt, true, "build"); len(b.compiled) != 0 {
		t.Fatalf("after the background compiles, the seeded tree's build compiled %v", b.compiled)
	}
	plain := filepath.Join(t.TempDir(), "p")
	git(t, repo, "worktree", "add", "-q", "--detach", plain)
	e.cargo(plain, false, "build")
	for i, f := range []string{"app/src/main.rs", "mid/src/lib.rs", "base/src/lib.rs"} {
		for _, dir := range []string{wt, plain} {
			b, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			edit(t, filepath.Join(dir, f), string(b)+fmt.Sprintf("\npub fn edit%d() -> u32 { %d }\n", i, i))
		}
		e.cargo(wt, true, "build")
		e.cargo(plain, false, "build")
		if got, want := run(t, filepath.Join(wt, "target/debug/app")), run(t, filepath.Join(plain, "target/debug/app")); got != want {
			t.Errorf("after editing %s: the seeded tree's app printed %q, plain cargo's %q", f, got, want)
		}
	}
	waitWarm(t, wt)
}

// A build that starts while the batch compiles goes first: the batch puts
// the seeded outputs back, and, since that build (or any compile since the
// seed) changed the tree, it only warms afterwards. Every later build,
// also one that compiles a dependent against the members, succeeds
// (a member of one compile and its dependent of another would fail with
// E0460), and runs as plain cargo's.
func TestSeededMembersBuildDuringBatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.extra = append(e.extra, "GROVE_WARM_INCREMENTAL=1")
	repo := localizeRepo(t)
	git(t, repo, "checkout", "-q", "--detach")
	e.cargo(repo, true, "build")

	for _, tc := range []struct {
		name string
		// before the build that arrives: wait for the batch to compile
		// (the first member's outputs kept aside), or edit a member first
		// so the build compiles.
		wait, editMid bool
		logs          []string // what the batch says it did
	}{
		// A no-op build: the seeded outputs were back, and the batch
		// then localizes, since nothing was compiled.
		{"arrives while compiling", true, false, []string{"it goes first", "compiled here replace the seeded ones"}},
		{"compiles a member first", false, true, []string{"members only warmed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log := filepath.Join(t.TempDir(), "grove.log")
			e.extra = []string{"GROVE_WARM_INCREMENTAL=1", "GROVE_LOG=" + log}
			wt, _ := seedTree(t, e, repo, "b", true)
			if tc.wait {
				deadline := time.Now().Add(2 * time.Minute)
				for {
					saved, _ := filepath.Glob(filepath.Join(wt, "target/debug/incremental/.grove-warm-*.saved"))
					if len(saved) > 0 {
						break
					}
					if time.Now().After(deadline) {
						t.Fatal("the batch never started compiling")
					}
					time.Sleep(5 * time.Millisecond)
				}
			}
			if tc.editMid {
				p := filepath.Join(wt, "mid/src/lib.rs")
				b, _ := os.ReadFile(p)
				edit(t, p, string(b)+"\npub fn early() {}\n")
			}
			b := e.cargo(wt, true, "build")
			if !tc.editMid && len(b.compiled) != 0 {
				t.Errorf("the build that arrived during the batch compiled %v", b.compiled)
			}
			waitWarm(t, wt)
			logText, _ := os.ReadFile(log)
			for _, want := range tc.logs {
				if !strings.Contains(string(logText), want) {
					t.Errorf("the batch did not log %q:\n%s", want, logText)
				}
			}
			if b := e.cargo(wt, true, "build"); len(b.compiled) != 0 {
				t.Errorf("the build after the batch compiled %v", b.compiled)
			}
			p := filepath.Join(wt, "app/src/main.rs")
			src, _ := os.ReadFile(p)
			edit(t, p, string(src)+"\nfn unused() {}\n")
			if _, err := e.tryCargo(wt, true, "build"); err != nil {
				t.Fatalf("a build compiling the app against the members failed: %v", err)
			}
			if got, want := run(t, filepath.Join(wt, "target/debug/app")), "x 35 18"; got != want {
				t.Errorf("app printed %q, want %q", got, want)
			}
			waitWarm(t, wt)
		})
	}
}

// A lib Cargo started on its dependency's metadata (pipelining) may end
// before the dependency's codegen does; it is fresh all the same, and
// seed copies it: the new worktree's first build compiles nothing. (Seed
// compared the dependency's rlib, and left the lib and everything built
// on it to Cargo.)
func TestSeededLibPipelinedOnSlowDependency(t *testing.T) {
	t.Parallel()
	var slow strings.Builder
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(&slow, "pub fn s%d(x: u64) -> u64 { (0..x).map(|i| i * %d).filter(|v| v %% 3 == 0).sum() }\n", i, i)
	}
	e := newEnv(t)
	repo := newRepo(t, map[string]string{
		"Cargo.toml":       "[workspace]\nresolver = \"2\"\nmembers = [\"base\", \"mid\", \"app\"]\n",
		"base/Cargo.toml":  "[package]\nname = \"base\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
		"base/src/lib.rs":  "pub mod slow;\npub fn k() -> u64 { 7 }\n",
		"base/src/slow.rs": slow.String(),
		"mid/Cargo.toml":   "[package]\nname = \"mid\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nbase = { path = \"../base\" }\n",
		"mid/src/lib.rs":   "pub fn m(x: u64) -> u64 { base::k() * x }\n",
		"app/Cargo.toml":   "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nmid = { path = \"../mid\" }\n",
		"app/src/main.rs":  "fn main() { println!(\"{}\", mid::m(5)); }\n",
		".gitignore":       "target/\n",
	})
	git(t, repo, "checkout", "-q", "--detach")
	e.cargo(repo, true, "build")
	rlib, _ := filepath.Glob(filepath.Join(repo, "target/debug/deps/libbase-*.rlib"))
	mid, _ := filepath.Glob(filepath.Join(repo, "target/debug/deps/libmid-*.rlib"))
	if len(rlib) != 1 || len(mid) != 1 {
		t.Fatalf("rlibs: %v %v", rlib, mid)
	}
	a, _ := os.Stat(rlib[0])
	b, _ := os.Stat(mid[0])
	if !a.ModTime().After(b.ModTime()) {
		t.Logf("base's codegen ended before mid's (%v, %v): the case did not arise this time", a.ModTime(), b.ModTime())
	}
	wt, out := seedTree(t, e, repo, "b", false)
	if !strings.Contains(out, " 0 units of path packages left to cargo") {
		t.Errorf("grove seed left units to Cargo:\n%s", out)
	}
	if b := e.cargo(wt, true, "build"); len(b.compiled) != 0 {
		t.Errorf("the seeded tree's first build compiled %v", b.compiled)
	}
	if got := run(t, filepath.Join(wt, "target/debug/app")); got != "35" {
		t.Errorf("app printed %q", got)
	}
}
