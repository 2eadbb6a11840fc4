package cache_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// libWorkspace is issue 7's C2 workspace: a library `l`, and `app`, whose
// program prints l::v() and whose unit test asserts that it is 1. m1 and
// m2 are two more programs on top of `l`, built one at a time with -p.
func libWorkspace() map[string]string {
	bin := func(name string) (string, string) {
		return "[package]\nname = \"" + name + "\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nl = { path = \"../l\" }\n",
			"fn main() { println!(\"" + name + " {}\", l::v()); }\n"
	}
	files := map[string]string{
		"Cargo.toml":   "[workspace]\nmembers = [\"l\", \"app\", \"m1\", \"m2\"]\nresolver = \"2\"\n",
		"l/Cargo.toml": "[package]\nname = \"l\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
		"l/src/lib.rs": libV(1),
		"app/src/main.rs": "fn main() { println!(\"app {}\", l::v()); }\n\n" +
			"#[test]\nfn v_is_1() { assert_eq!(l::v(), 1); }\n",
	}
	files["app/Cargo.toml"], _ = bin("app")
	files["m1/Cargo.toml"], files["m1/src/main.rs"] = bin("m1")
	files["m2/Cargo.toml"], files["m2/src/main.rs"] = bin("m2")
	return files
}

// layout is one of Cargo's target-dir layouts: deps/ and
// build/<pkg>-<hash>/ (cargo 1.95, the default here), or
// build/<pkg>/<hash>/{out,run}/ (default from Cargo 1.100; nightly 1.97
// with -Zbuild-dir-new-layout, set here through Cargo's CARGO_UNSTABLE_*
// variables so every cargo command of a twin gets it).
type layout struct {
	name string
	env  []string
}

var layouts = []layout{
	{"old layout", nil},
	{"new layout", []string{"RUSTUP_TOOLCHAIN=nightly", "CARGO_UNSTABLE_BUILD_DIR_NEW_LAYOUT=true"}},
}

// eachLayout runs fn as a subtest per layout, on a twin of files built
// with that layout.
func eachLayout(t *testing.T, files map[string]string, fn func(tw *twin)) {
	t.Parallel()
	for _, l := range layouts {
		t.Run(l.name, func(t *testing.T) {
			t.Parallel()
			tw := newTwin(t, files)
			tw.both(func(s *side) { s.e.extra = append(s.e.extra, l.env...) })
			fn(tw)
		})
	}
}

func libV(v int) string {
	return "pub fn v() -> u32 { " + string(rune('0'+v)) + " }\n"
}

// buildRunTest is one round of the edit loop: build, run the program,
// run the tests. What a user sees of all three is compared.
func buildRunTest(tw *twin, wt, desc string) {
	tw.t.Helper()
	tw.step(wt+": "+desc+": cargo build", func(s *side) string { return s.cargo(wt, "build") })
	tw.step(wt+": "+desc+": app", func(s *side) string { return s.run(wt, "target/debug/app") })
	tw.step(wt+": "+desc+": cargo test", func(s *side) string { return s.test(wt) })
}

// Issue 7, case 21: reverting an edit restores the library's earlier
// compile from the store. Its outputs must not carry that compile's older
// mtime into a tree where the test harness was since built against the
// edit, or Cargo keeps the stale harness. In "a" the store holds what "a"
// compiled; in "b" every round is a hit, replacing outputs b restored.
func TestFreshnessRevert(t *testing.T) {
	eachLayout(t, libWorkspace(), func(tw *twin) {
		for _, wt := range []string{"a", "b"} {
			buildRunTest(tw, wt, "v1")
			tw.both(func(s *side) { s.write(wt, map[string]string{"l/src/lib.rs": libV(2)}) })
			buildRunTest(tw, wt, "edited to v2")
			tw.both(func(s *side) { s.git(wt, "checkout", "--", "l/src/lib.rs") })
			buildRunTest(tw, wt, "reverted to v1")
		}
	})
}

// The same through git stash and stash pop, in both directions: the pop
// brings back a version the store already holds.
func TestFreshnessStash(t *testing.T) {
	eachLayout(t, libWorkspace(), func(tw *twin) {
		for _, wt := range []string{"a", "b"} {
			buildRunTest(tw, wt, "v1")
			tw.both(func(s *side) { s.write(wt, map[string]string{"l/src/lib.rs": libV(2)}) })
			buildRunTest(tw, wt, "edited to v2")
			tw.both(func(s *side) { s.git(wt, "stash", "-q") })
			buildRunTest(tw, wt, "stashed")
			tw.both(func(s *side) { s.git(wt, "stash", "pop", "-q") })
			buildRunTest(tw, wt, "popped")
			tw.both(func(s *side) { s.git(wt, "checkout", "--", "l/src/lib.rs") })
		}
	})
}

// Branch switches back and forth, in the worktree that compiled both
// versions and in one that only restores them.
func TestFreshnessBranchSwitch(t *testing.T) {
	eachLayout(t, libWorkspace(), func(tw *twin) {
		tw.both(func(s *side) {
			s.git("a", "checkout", "-q", "-b", "two")
			s.write("a", map[string]string{"l/src/lib.rs": libV(2)})
			s.git("a", "commit", "-q", "-am", "two")
			s.git("a", "checkout", "-q", "main")
		})
		for _, wt := range []string{"a", "b"} {
			buildRunTest(tw, wt, "main")
			if wt == "b" {
				tw.both(func(s *side) { s.git(wt, "checkout", "-q", "--detach", "two") })
			} else {
				tw.both(func(s *side) { s.git(wt, "checkout", "-q", "two") })
			}
			buildRunTest(tw, wt, "branch two")
			tw.both(func(s *side) { s.git(wt, "checkout", "-q", "-") })
			buildRunTest(tw, wt, "back on main")
			tw.both(func(s *side) { s.git(wt, "checkout", "-q", "-") })
			buildRunTest(tw, wt, "back on two")
			tw.both(func(s *side) { s.git(wt, "checkout", "-q", "-") })
		}
	})
}

// `cargo build -p m1`, then `-p m2`: a restore made for m1's build must not
// leave m2, built earlier on top of another version of l, looking fresh.
func TestFreshnessPackageByPackage(t *testing.T) {
	eachLayout(t, libWorkspace(), func(tw *twin) {
		for _, wt := range []string{"a", "b"} {
			step := func(desc string, args ...string) {
				tw.step(wt+": "+desc, func(s *side) string { return s.cargo(wt, args...) })
			}
			runM := func(desc, m string) {
				tw.step(wt+": "+desc+": "+m, func(s *side) string { return s.run(wt, "target/debug/"+m) })
			}
			step("v1: build -p m1", "build", "-p", "m1")
			runM("v1", "m1")
			tw.both(func(s *side) { s.write(wt, map[string]string{"l/src/lib.rs": libV(2)}) })
			step("v2: build -p m2", "build", "-p", "m2")
			runM("v2", "m2")
			tw.both(func(s *side) { s.git(wt, "checkout", "--", "l/src/lib.rs") })
			step("reverted: build -p m1", "build", "-p", "m1")
			runM("reverted", "m1")
			step("reverted: build -p m2", "build", "-p", "m2")
			runM("reverted", "m2")
		}
	})
}

// Issue 7, case 22: a make rule on the program. After a branch switch and
// a build, the program must look newer than what make made from it before,
// as plain cargo's does.
func TestFreshnessMakeRule(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatal("make not on PATH")
	}
	files := map[string]string{
		"Cargo.toml":  "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
		"src/main.rs": "fn main() { println!(\"main\"); }\n",
		"Makefile":    "out.txt: target/debug/app\n\t./target/debug/app > out.txt\n",
		".gitignore":  "/target\n/out.txt\n",
	}
	eachLayout(t, files, func(tw *twin) {
		tw.both(func(s *side) {
			s.git("a", "checkout", "-q", "-b", "feature")
			s.write("a", map[string]string{"src/main.rs": "fn main() { println!(\"feature\"); }\n"})
			s.git("a", "commit", "-q", "-am", "feature")
			s.git("a", "checkout", "-q", "main")
		})
		makeOut := func(s *side, wt string) string {
			cmd := exec.Command("make", "-s")
			cmd.Dir = s.wt(wt)
			if out, err := cmd.CombinedOutput(); err != nil {
				return "make: " + err.Error() + "\n" + string(out)
			}
			b, err := os.ReadFile(filepath.Join(s.wt(wt), "out.txt"))
			if err != nil {
				return err.Error()
			}
			return strings.TrimSpace(string(b))
		}
		for _, wt := range []string{"a", "b"} {
			for _, branch := range []string{"main", "feature", "main", "feature"} {
				tw.both(func(s *side) {
					if wt == "b" {
						s.git(wt, "checkout", "-q", "--detach", branch)
					} else {
						s.git(wt, "checkout", "-q", branch)
					}
				})
				tw.step(wt+": "+branch+": cargo build", func(s *side) string { return s.cargo(wt, "build") })
				tw.step(wt+": "+branch+": make", func(s *side) string { return makeOut(s, wt) })
			}
		}
	})
}

// Issue 10, part 1: on both layouts a second worktree's build restores
// every unit, and the next build there, and in the first worktree, is a
// no-op, as with plain cargo. The restore must find the build script's
// run output where each layout keeps it.
func TestFreshnessSecondWorktreeNoop(t *testing.T) {
	eachLayout(t, fixture(), func(tw *twin) {
		tw.step("a: build", func(s *side) string { return s.cargo("a", "build") })
		tw.step("b: build", func(s *side) string { return s.cargo("b", "build") })
		tw.step("b: build again", func(s *side) string { return compiledUnits(s, "b") })
		tw.step("b: and again", func(s *side) string { return compiledUnits(s, "b") })
		tw.step("a: build after b", func(s *side) string { return compiledUnits(s, "a") })
	})
}

// compiledUnits runs cargo build and returns what it says it compiled.
func compiledUnits(s *side, wt string) string {
	code, _, stderr := s.cargoOut(wt, nil, "build")
	var units []string
	for _, l := range strings.Split(stderr, "\n") {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, "Compiling ") {
			units = append(units, l)
		}
	}
	return fmt.Sprintf("exit %d compiled %v", code, units)
}
