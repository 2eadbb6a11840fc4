package cache_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/grove-rs/grove/internal/stats"
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
	tw.both(func(s *side) { s.write("b", map[string]string{"app/src/main.rs": "fn main() { println!(\"b={}\", l::v()); }\n"}) })
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

// Issue 7, C17: with RUSTC_WORKSPACE_WRAPPER set too, Cargo runs
// `grove WORKSPACE_WRAPPER RUSTC ARGS` for workspace members. The workspace
// wrapper may change what is built (clippy lints, `cargo fix` edits the
// sources), so grove runs that command line as given, uncached; units of
// other packages are still cached.
func TestTrustWorkspaceWrapperOnPath(t *testing.T) {
	t.Parallel()
	// mywrap logs each call into the worktree, then runs what it is given.
	path := pathScript(t, "mywrap", "echo \"$2\" >> \"$CARGO_MANIFEST_DIR/../wrapped.log\"\nexec \"$@\"\n")
	extra := []string{"PATH=" + path, "RUSTC_WORKSPACE_WRAPPER=mywrap"}
	tw := newTwin(t, twoCrates())
	tw.step("a: build", func(s *side) string { return s.cargoEnv("a", extra, "build") + "\n" + s.run("a", "target/debug/app") })
	tw.step("a: wrapper ran for the members", func(s *side) string { return wrappedLog(s, "a") })
	tw.step("a: test", func(s *side) string { return s.test("a") })
	for _, e := range tw.grove.events() {
		if e.Kind != stats.Uncacheable || !strings.Contains(e.Reason, "mywrap") {
			t.Errorf("a: %s %s: %s (want uncacheable: workspace wrapper mywrap)", e.Kind, e.Crate, e.Reason)
		}
	}
}

// wrappedLog returns the sorted, distinct argument lines the mywrap script
// logged in worktree wt.
func wrappedLog(s *side, wt string) string {
	b, _ := os.ReadFile(filepath.Join(s.wt(wt), "wrapped.log"))
	seen := map[string]bool{}
	var ls []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if !seen[l] {
			seen[l] = true
			ls = append(ls, l)
		}
	}
	sort.Strings(ls)
	return fmt.Sprint(len(ls) > 0)
}
