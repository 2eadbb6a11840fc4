package cache_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/grove-rs/grove/internal/stats"
	"github.com/grove-rs/grove/internal/testneed"
)

// twoCrates is a workspace of a library and a binary that prints it.
func twoCrates() map[string]string {
	return map[string]string{
		"Cargo.toml":         "[workspace]\nmembers = [\"l\", \"app\"]\nresolver = \"2\"\n",
		"l/Cargo.toml":       "[package]\nname = \"l\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
		"l/src/lib.rs":       "pub fn v() -> u32 { 1 }\n",
		"app/Cargo.toml":     "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nl = { path = \"../l\" }\n",
		"app/src/main.rs":    "fn main() { println!(\"v={}\", l::v()); }\n",
		"app/tests/it.rs":    "#[test]\nfn one() { assert_eq!(l::v(), 1); }\n",
		"l/tests/unused.rs":  "#[test]\nfn lib_ok() {}\n",
		".gitignore":         "target/\n",
		"app/src/helper.txt": "unused\n",
	}
}

// kinds summarizes events as "kind crate (reason)" lines, sorted.
func kinds(evs []stats.Event) string {
	var ls []string
	for _, e := range evs {
		l := e.Kind + " " + e.Crate
		if e.Reason != "" {
			l += " (" + e.Reason + ")"
		}
		ls = append(ls, l)
	}
	sort.Strings(ls)
	return strings.Join(ls, "\n")
}

// Issue 7, C15: a Cargo that runs `rustc` by bare name (a distro cargo, or
// RUSTC=rustc with the toolchain's bin dir first on PATH) hands grove the
// name, not a path. grove must find it on PATH as exec does, and cache.
func TestTrustBareRustcOnPath(t *testing.T) {
	t.Parallel()
	extra := []string{"PATH=" + toolchainBin(t) + string(os.PathListSeparator) + os.Getenv("PATH"), "RUSTC=rustc"}
	tw := newTwin(t, twoCrates())
	tw.step("a: build", func(s *side) string { return s.cargoEnv("a", extra, "build") + "\n" + s.run("a", "target/debug/app") })
	for _, e := range tw.grove.events() {
		if e.Kind != stats.Miss && e.Kind != stats.Uncacheable {
			t.Errorf("a: %s %s: %s", e.Kind, e.Crate, e.Reason)
		}
		if e.Kind == stats.Uncacheable {
			t.Errorf("a: %s not cached: %s", e.Crate, e.Reason)
		}
	}
	n := len(tw.grove.events())
	tw.both(func(s *side) {
		s.write("b", map[string]string{"app/src/main.rs": "fn main() { println!(\"b={}\", l::v()); }\n"})
	})
	tw.step("b: build", func(s *side) string { return s.cargoEnv("b", extra, "build") + "\n" + s.run("b", "target/debug/app") })
	got := kinds(tw.grove.events()[n:])
	if want := "hit l\nmiss app"; got != want {
		t.Errorf("b: grove did\n%s\nwant\n%s", got, want)
	}
	tw.step("b: test", func(s *side) string { return s.test("b") })
}

// pathScript writes an executable shell script named name into a fresh
// directory and returns a PATH with that directory first.
func pathScript(t *testing.T, name, body string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir + string(os.PathListSeparator) + os.Getenv("PATH")
}

// withOutsideDep is twoCrates plus a path dependency that is not a
// workspace member (Cargo calls no workspace wrapper for it).
func withOutsideDep() map[string]string {
	files := twoCrates()
	files["Cargo.toml"] = "[workspace]\nmembers = [\"l\", \"app\"]\nexclude = [\"vendor/dep\"]\nresolver = \"2\"\n"
	files["app/Cargo.toml"] += "dep = { path = \"../vendor/dep\" }\n"
	files["app/src/main.rs"] = "fn main() { println!(\"v={} dep={}\", l::v(), dep::d()); }\n"
	files["vendor/dep/Cargo.toml"] = "[package]\nname = \"dep\"\nversion = \"0.1.0\"\nedition = \"2021\"\n"
	files["vendor/dep/src/lib.rs"] = "pub fn d() -> u32 { 7 }\n"
	return files
}

// Issue 7, C17: with RUSTC_WORKSPACE_WRAPPER set too, Cargo runs
// `grove WORKSPACE_WRAPPER RUSTC ARGS` for workspace members. The workspace
// wrapper may change what is built (clippy lints, `cargo fix` edits the
// sources), so grove runs that command line as given, uncached; units of
// packages outside the workspace are still cached.
func TestTrustWorkspaceWrapperOnPath(t *testing.T) {
	t.Parallel()
	// mywrap logs the crate of each call into the worktree, then runs
	// what it is given.
	path := pathScript(t, "mywrap", `for a; do [ "$prev" = --crate-name ] && echo "$a" >> "$CARGO_MANIFEST_DIR/../wrapped.log"; prev=$a; done
exec "$@"
`)
	extra := []string{"PATH=" + path, "RUSTC_WORKSPACE_WRAPPER=mywrap"}
	tw := newTwin(t, withOutsideDep())
	tw.step("a: build", func(s *side) string { return s.cargoEnv("a", extra, "build") + "\n" + s.run("a", "target/debug/app") })
	tw.step("a: wrapper ran for the members", func(s *side) string { return wrappedLog(s, "a") })
	checkWrapped := func(wt string, evs []stats.Event, want string) {
		t.Helper()
		for _, e := range evs {
			if e.Crate == "dep" {
				if e.Kind != want {
					t.Errorf("%s: dep: %s %s, want %s", wt, e.Kind, e.Reason, want)
				}
			} else if e.Kind != stats.Uncacheable || e.Reason != "workspace wrapper mywrap" {
				t.Errorf("%s: %s: %s %s, want uncacheable: workspace wrapper mywrap", wt, e.Crate, e.Kind, e.Reason)
			}
		}
	}
	checkWrapped("a", tw.grove.events(), stats.Miss)
	n := len(tw.grove.events())
	tw.step("b: build", func(s *side) string { return s.cargoEnv("b", extra, "build") + "\n" + s.run("b", "target/debug/app") })
	tw.step("b: wrapper ran for the members", func(s *side) string { return wrappedLog(s, "b") })
	checkWrapped("b", tw.grove.events()[n:], stats.Hit)
	tw.step("b: test", func(s *side) string { return s.test("b") })
}

// wrappedLog returns the distinct crate names the mywrap script logged in
// worktree wt, sorted.
func wrappedLog(s *side, wt string) string {
	b, _ := os.ReadFile(filepath.Join(s.wt(wt), "wrapped.log"))
	seen := map[string]bool{}
	var ls []string
	for _, l := range strings.Fields(string(b)) {
		if !seen[l] {
			seen[l] = true
			ls = append(ls, l)
		}
	}
	sort.Strings(ls)
	return strings.Join(ls, " ")
}

// Issue 7, C17: `cargo fix` names cargo itself as the workspace wrapper; it
// rewrites the sources. After a grove build in another worktree and in this
// one, the fix and the build after it give what plain cargo gives.
func TestTrustCargoFix(t *testing.T) {
	t.Parallel()
	tw := newTwin(t, withOutsideDep())
	tw.step("a: build", func(s *side) string { return s.cargo("a", "build") })
	tw.step("b: build", func(s *side) string { return s.cargo("b", "build") })
	tw.both(func(s *side) {
		s.write("b", map[string]string{"l/src/lib.rs": "pub fn v() -> u32 {\n    let mut x = 1;\n    x\n}\n"})
	})
	tw.step("b: cargo fix", func(s *side) string { return s.cargo("b", "fix", "--allow-dirty") })
	tw.step("b: fixed source", func(s *side) string {
		b, err := os.ReadFile(filepath.Join(s.wt("b"), "l/src/lib.rs"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	})
	tw.step("b: build after fix", func(s *side) string { return s.cargo("b", "build") + "\n" + s.run("b", "target/debug/app") })
	tw.step("b: test after fix", func(s *side) string { return s.test("b") })
}

// Issue 7, C17: `cargo clippy` runs clippy-driver as the workspace wrapper.
// Its lints appear as with plain cargo, in a worktree whose dependencies
// grove restored too.
func TestTrustCargoClippy(t *testing.T) {
	t.Parallel()
	if err := exec.Command("cargo", "clippy", "-V").Run(); err != nil {
		testneed.Missing(t, "clippy", err)
	}
	files := withOutsideDep()
	files["l/src/lib.rs"] = "pub fn v() -> u32 {\n    return 1;\n}\n"
	tw := newTwin(t, files)
	lints := func(s *side, wt string) string {
		code, _, errOut := s.cargoOut(wt, nil, "clippy")
		var ls []string
		for _, l := range strings.Split(errOut, "\n") {
			if strings.HasPrefix(l, "warning:") || strings.HasPrefix(l, "error") {
				ls = append(ls, l)
			}
		}
		sort.Strings(ls)
		return fmt.Sprintf("exit %d\n%s", code, strings.Join(ls, "\n"))
	}
	tw.step("a: clippy", func(s *side) string { return lints(s, "a") })
	tw.step("b: build", func(s *side) string { return s.cargo("b", "build") })
	tw.step("b: clippy", func(s *side) string { return lints(s, "b") })
	tw.step("b: clippy again", func(s *side) string { return lints(s, "b") })
	tw.both(func(s *side) { s.write("b", map[string]string{"l/src/lib.rs": "pub fn v() -> u32 {\n    1\n}\n"}) })
	tw.step("b: clippy after the fix", func(s *side) string { return lints(s, "b") })
}

// Issue 7, C15/C17's class, a name found on PATH: RUSTC set to a script of
// the user's by bare name. Cargo runs `grove myrustc ARGS`; grove must
// take it for the compiler, not a subcommand, and never break the build
// (a script outside a toolchain is run uncached).
func TestTrustRustcScriptOnPath(t *testing.T) {
	t.Parallel()
	path := pathScript(t, "myrustc", "exec rustc \"$@\"\n")
	extra := []string{"PATH=" + path, "RUSTC=myrustc"}
	tw := newTwin(t, twoCrates())
	tw.step("a: build", func(s *side) string { return s.cargoEnv("a", extra, "build") + "\n" + s.run("a", "target/debug/app") })
	for _, e := range tw.grove.events() {
		if e.Kind != stats.Uncacheable || !strings.Contains(e.Reason, "not inside a toolchain") {
			t.Errorf("a: %s %s: %s, want uncacheable: not inside a toolchain", e.Kind, e.Crate, e.Reason)
		}
	}
}
