package cache_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/grove-rs/grove/internal/stats"
)

// Issue 7, section A: a path of this tree that reaches an output (RUNPATH,
// a string literal a proc-macro wrote, concat!(env!("OUT_DIR"), ...) read
// at run time) must pin the unit to this tree; paths written in escaped
// forms (dep-info, JSON) must be rewritten in that form; a worktree entered
// through a symlink must hit like any other.

// A2: a build script links a shared library it builds into OUT_DIR and
// sets the binary's RUNPATH to OUT_DIR. b's binary must use b's library.
func TestTrustRunpathIntoOutDir(t *testing.T) {
	t.Parallel()
	tw := newTwin(t, map[string]string{
		"Cargo.toml": "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
		"csrc/foo.c": "int foo_value(void) { return 1; }\n",
		"build.rs": `use std::process::Command;
fn main() {
    let out = std::env::var("OUT_DIR").unwrap();
    println!("cargo:rerun-if-changed=csrc/foo.c");
    let so = format!("{out}/libfoo.so");
    let st = Command::new("cc").args(["-shared", "-fPIC", "-o", &so, "csrc/foo.c"]).status().unwrap();
    assert!(st.success());
    println!("cargo:rustc-link-search=native={out}");
    println!("cargo:rustc-link-lib=dylib=foo");
    println!("cargo:rustc-link-arg=-Wl,-rpath,{out}");
}
`,
		"src/main.rs": "extern \"C\" { fn foo_value() -> i32; }\nfn main() { println!(\"foo={}\", unsafe { foo_value() }); }\n",
	})
	tw.step("a: build", func(s *side) string { return s.cargo("a", "build") })
	tw.step("b: build", func(s *side) string { return s.cargo("b", "build") })
	tw.step("b: run", func(s *side) string { return s.run("b", "target/debug/app") })
	tw.both(func(s *side) { s.write("a", map[string]string{"csrc/foo.c": "int foo_value(void) { return 2; }\n"}) })
	tw.step("a: build after foo.c returns 2", func(s *side) string { return s.cargo("a", "build") })
	tw.step("a: run", func(s *side) string { return s.run("a", "target/debug/app") })
	tw.step("b: run its untouched binary", func(s *side) string { return s.run("b", "target/debug/app") })
	tw.both(func(s *side) { s.cargo("a", "clean") })
	tw.step("b: run after a is cleaned", func(s *side) string { return s.run("b", "target/debug/app") })
}

// procMacroFiles is a workspace whose app uses a proc-macro that writes
// CARGO_MANIFEST_DIR (of the crate being compiled) into a string literal,
// as rust-embed does in debug builds.
var procMacroFiles = map[string]string{
	"Cargo.toml":      "[workspace]\nmembers = [\"app\", \"pm\"]\nresolver = \"2\"\n",
	"app/Cargo.toml":  "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\npm = { path = \"../pm\" }\n",
	"app/src/main.rs": "pm::manifest_dir!();\nfn main() { println!(\"dir={}\", dir()); }\n",
	"pm/Cargo.toml":   "[package]\nname = \"pm\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[lib]\nproc-macro = true\n",
	"pm/src/lib.rs": `extern crate proc_macro;
use proc_macro::TokenStream;

#[proc_macro]
pub fn manifest_dir(_: TokenStream) -> TokenStream {
    format!("pub fn dir() -> &'static str {{ {:?} }}", std::env::var("CARGO_MANIFEST_DIR").unwrap()).parse().unwrap()
}
`,
}

// A3: b's binary names b's manifest dir, with and without
// GROVE_EXTRA_ENV=CARGO_MANIFEST_DIR (which must key it exactly).
func TestTrustProcMacroManifestDir(t *testing.T) {
	t.Parallel()
	for _, extra := range []string{"", "CARGO_MANIFEST_DIR"} {
		t.Run("extra="+extra, func(t *testing.T) {
			t.Parallel()
			tw := newTwin(t, procMacroFiles)
			if extra != "" {
				tw.both(func(s *side) { s.e.extra = append(s.e.extra, "GROVE_EXTRA_ENV="+extra) })
			}
			tw.step("a: build", func(s *side) string { return s.cargo("a", "build") })
			tw.step("a: run", func(s *side) string { return s.run("a", "target/debug/app") })
			tw.step("b: build", func(s *side) string { return s.cargo("b", "build") })
			tw.step("b: run", func(s *side) string { return s.run("b", "target/debug/app") })
		})
	}
}

// A4: a file that build.rs copies into OUT_DIR is read at run time through
// concat!(env!("OUT_DIR"), ...). The data differ between a and b.
func TestTrustOutDirReadAtRunTime(t *testing.T) {
	t.Parallel()
	tw := newTwin(t, map[string]string{
		"Cargo.toml":      "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
		"data/config.txt": "config of a\n",
		"build.rs": `fn main() {
    println!("cargo:rerun-if-changed=data/config.txt");
    let out = std::env::var("OUT_DIR").unwrap();
    std::fs::copy("data/config.txt", format!("{out}/config.txt")).unwrap();
}
`,
		"src/main.rs": "fn main() {\n    let c = std::fs::read_to_string(concat!(env!(\"OUT_DIR\"), \"/config.txt\"));\n    println!(\"{:?}\", c.map_err(|e| e.kind()));\n}\n",
	})
	tw.step("a: build", func(s *side) string { return s.cargo("a", "build") })
	tw.step("a: run", func(s *side) string { return s.run("a", "target/debug/app") })
	tw.both(func(s *side) { s.write("b", map[string]string{"data/config.txt": "config of b\n"}) })
	tw.step("b: build", func(s *side) string { return s.cargo("b", "build") })
	tw.step("b: run", func(s *side) string { return s.run("b", "target/debug/app") })
	tw.both(func(s *side) { s.cargo("a", "clean") })
	tw.step("b: run after a is cleaned", func(s *side) string { return s.run("b", "target/debug/app") })
}

// genFiles includes code generated into OUT_DIR; the generated code has a
// warning, so rustc's JSON diagnostics name the OUT_DIR path too.
var genFiles = map[string]string{
	"Cargo.toml": "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
	"build.rs": `fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let out = std::env::var("OUT_DIR").unwrap();
    std::fs::write(format!("{out}/gen.rs"), "pub fn gen() -> u32 { let unused = 1; 7 }\n").unwrap();
}
`,
	"src/main.rs": "include!(concat!(env!(\"OUT_DIR\"), \"/gen.rs\"));\nfn main() { println!(\"gen={}\", gen()); }\n",
}

var hashRE = regexp.MustCompile(`-[0-9a-f]{16}\b`)

// A5: worktree paths that need escaping in dep-info (space; backslash in
// env-dep lines) or in JSON (quote, backslash), and non-ASCII ones. b's
// dep-info and diagnostics name b's files; once a is cleaned, b's next
// build is a no-op, as with plain cargo.
func TestTrustEscapedWorktreePaths(t *testing.T) {
	t.Parallel()
	for _, names := range [][2]string{
		{"wt A", "wt B"},
		{`wt "qa"`, `wt "qb"`},
		{`wt\a`, `wt\b`},
		{"wt éa", "wt éb"},
	} {
		t.Run(names[1], func(t *testing.T) {
			t.Parallel()
			tw := newTwinNamed(t, genFiles, names[0], names[1])
			tw.step("a: build", func(s *side) string { return s.cargo("a", "build") })
			tw.step("b: build, warnings", func(s *side) string { return warnings(s, "b") })
			tw.step("b: run", func(s *side) string { return s.run("b", "target/debug/app") })
			tw.step("b: dep-info", func(s *side) string { return depInfo(s, "b") })
			tw.both(func(s *side) { s.cargo("a", "clean") })
			tw.step("b: build after a is cleaned", func(s *side) string {
				_, _, errOut := s.cargoOut("b", nil, "build")
				return "compiled: " + strings.Join(compiling(errOut), ", ")
			})
			tw.step("b: run after a is cleaned", func(s *side) string { return s.run("b", "target/debug/app") })
		})
	}
}

// warnings builds worktree wt and returns the lines of cargo's stderr that
// come from diagnostics (with paths), hashes in file names masked.
func warnings(s *side, wt string) string {
	s.t.Helper()
	code, _, errOut := s.cargoOut(wt, nil, "build")
	var out []string
	for _, l := range strings.Split(errOut, "\n") {
		if strings.HasPrefix(l, "warning") || strings.Contains(l, "-->") {
			out = append(out, hashRE.ReplaceAllString(l, "-HASH"))
		}
	}
	return fmt.Sprintf("exit %d\n%s", code, strings.Join(out, "\n"))
}

// depInfo returns the dep-info rustc wrote for the app binary in worktree
// wt, hashes masked.
func depInfo(s *side, wt string) string {
	s.t.Helper()
	ds, _ := filepath.Glob(filepath.Join(s.wt(wt), "target", "debug", "deps", "app-*.d"))
	if len(ds) != 1 {
		return fmt.Sprintf("%d dep-info files", len(ds))
	}
	b, err := os.ReadFile(ds[0])
	if err != nil {
		return err.Error()
	}
	return hashRE.ReplaceAllString(string(b), "-HASH")
}

// compiling lists the packages cargo's stderr says it compiled.
func compiling(stderr string) []string {
	var out []string
	for _, l := range strings.Split(stderr, "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "Compiling" {
			out = append(out, f[1])
		}
	}
	sort.Strings(out)
	return out
}

// groveEvents returns the events logged in the grove side's store since
// the first n.
func groveEvents(t *testing.T, s *side, n int) []stats.Event {
	t.Helper()
	evs, err := stats.Read(s.e.store)
	if err != nil {
		t.Fatal(err)
	}
	if n > len(evs) {
		return nil
	}
	return evs[n:]
}

// A6: worktree b entered through a symlink, with PWD naming the link as a
// shell sets it, hits the units a stored.
func TestTrustWorktreeThroughSymlink(t *testing.T) {
	t.Parallel()
	tw := newTwin(t, map[string]string{
		"Cargo.toml":      "[workspace]\nmembers = [\"app\", \"l\"]\nresolver = \"2\"\n",
		"app/Cargo.toml":  "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nl = { path = \"../l\" }\n",
		"app/src/main.rs": "fn main() { println!(\"l={}\", l::v()); }\n",
		"l/Cargo.toml":    "[package]\nname = \"l\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
		"l/src/lib.rs":    "pub fn v() -> u32 { 1 }\n",
	})
	tw.step("a: build", func(s *side) string { return s.cargo("a", "build") })
	tw.both(func(s *side) {
		link := filepath.Join(s.root, "linkB")
		if err := os.Symlink(s.wt("b"), link); err != nil {
			t.Fatal(err)
		}
		s.wts["linkB"] = link
	})
	var before int
	if evs, err := stats.Read(tw.grove.e.store); err == nil {
		before = len(evs)
	}
	tw.step("linkB: build", func(s *side) string {
		return s.cargoEnv("linkB", []string{"PWD=" + s.wt("linkB")}, "build")
	})
	hits := 0
	var misses []string
	for _, ev := range groveEvents(t, tw.grove, before) {
		switch ev.Kind {
		case stats.Hit:
			hits++
		case stats.Miss:
			misses = append(misses, ev.Crate)
		}
	}
	if hits == 0 || len(misses) > 0 {
		t.Errorf("build through a symlink: %d hits, misses %v; want every unit a stored to hit", hits, misses)
	}
	tw.step("linkB: run", func(s *side) string { return s.run("linkB", "target/debug/app") })
	tw.both(func(s *side) { s.write("b", map[string]string{"l/src/lib.rs": "pub fn v() -> u32 { 2 }\n"}) })
	tw.step("linkB: build after l returns 2", func(s *side) string {
		return s.cargoEnv("linkB", []string{"PWD=" + s.wt("linkB")}, "build")
	})
	tw.step("linkB: run", func(s *side) string { return s.run("linkB", "target/debug/app") })
	tw.step("a: run", func(s *side) string { return s.run("a", "target/debug/app") })
}
