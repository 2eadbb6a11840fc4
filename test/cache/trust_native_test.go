package cache_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/grove-rs/grove/internal/stats"
)

// Issue 7, section B: native code a unit links that its command line does
// not name. Every scenario builds csrc/foo.c (which includes foo.h,
// `#define VALUE 1`) into $OUT_DIR/libfoo.a with cc and ar from a build
// script, with debug info (so the archive embeds the worktree's path), and
// links it a different way. Then VALUE becomes 2, in a and separately in b:
// grove must print what plain cargo prints. While the C code is the same in
// both worktrees, the crates above the C library must hit in b: the key
// must not see the build dir that the debug sections name.

const nativeFooC = "#include \"foo.h\"\nint foo_value(void) { return VALUE; }\n"

func nativeFooH(v int) string { return fmt.Sprintf("#define VALUE %d\n", v) }

// nativeBuildRS is a build script that compiles the C library with cc and
// ar and prints extra (cargo: lines, where {out} is OUT_DIR) after the link
// search path.
func nativeBuildRS(extra ...string) string {
	var lines strings.Builder
	for _, l := range extra {
		fmt.Fprintf(&lines, "    println!(%q);\n", l)
	}
	return `use std::process::Command;
fn main() {
    let out = std::env::var("OUT_DIR").unwrap();
    println!("cargo:rerun-if-changed=csrc/foo.c");
    println!("cargo:rerun-if-changed=csrc/foo.h");
    let obj = format!("{out}/foo.o");
    let lib = format!("{out}/libfoo.a");
    let st = Command::new("cc").args(["-g", "-O1", "-c", "csrc/foo.c", "-o", &obj]).status().unwrap();
    assert!(st.success(), "cc failed");
    let _ = std::fs::remove_file(&lib);
    let st = Command::new("ar").args(["crs", &lib, &obj]).status().unwrap();
    assert!(st.success(), "ar failed");
    println!("cargo:rustc-link-search=native={out}");
` + lines.String() + "}\n"
}

// nativeFiles are the C sources of a package at dir ("" for the root).
func nativeFiles(dir string, files map[string]string) map[string]string {
	files[filepath.Join(dir, "csrc/foo.c")] = nativeFooC
	files[filepath.Join(dir, "csrc/foo.h")] = nativeFooH(1)
	return files
}

const nativeExtern = "extern \"C\" { fn foo_value() -> i32; }\n"

// cargoEvents is cargo that also returns the grove events of the run
// (none on the plain side).
func (s *side) cargoEvents(wt string, extra []string, args ...string) (string, []stats.Event) {
	s.t.Helper()
	var before []stats.Event
	if s.grove {
		before, _ = stats.Read(s.e.store)
	}
	res := s.cargoEnv(wt, extra, args...)
	if !s.grove {
		return res, nil
	}
	after, _ := stats.Read(s.e.store)
	if len(after) < len(before) {
		return res, nil
	}
	return res, after[len(before):]
}

// crateKinds summarizes events as "crate=kind" for the crates named, sorted;
// a crate compiled more than once (lib and bin) lists each kind.
func crateKinds(evs []stats.Event, crates ...string) string {
	want := map[string]bool{}
	for _, c := range crates {
		want[c] = true
	}
	var out []string
	for _, e := range evs {
		if want[e.Crate] {
			s := e.Crate + "=" + e.Kind
			if e.Kind != stats.Hit && e.Kind != stats.Miss {
				s += "(" + e.Reason + ")"
			}
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// nativeScenario runs the section-B script on a twin: build in a and b
// (b must hit crates), then VALUE 2 in a, then in b.
func nativeScenario(t *testing.T, tw *twin, header, prog string, extra []string, args []string, crates ...string) {
	t.Helper()
	build := func(s *side, wt string) string {
		res, evs := s.cargoEvents(wt, extra, append([]string{"build"}, args...)...)
		if s.grove {
			t.Logf("%s: grove events: %s", wt, crateKinds(evs, crates...))
		}
		return res + "\n" + s.run(wt, prog)
	}
	tw.step("a: build and run", func(s *side) string { return build(s, "a") })
	tw.step("b: build and run, same C code", func(s *side) string {
		res, evs := s.cargoEvents("b", extra, append([]string{"build"}, args...)...)
		if s.grove {
			for _, c := range crates {
				if k := crateKinds(evs, c); k == "" || strings.Contains(strings.ReplaceAll(k, c+"="+stats.Hit, ""), "=") {
					t.Errorf("b: %s should hit with the same C code in both worktrees: %s", c, k)
				}
			}
		}
		return res + "\n" + s.run("b", prog)
	})
	tw.both(func(s *side) { s.write("a", map[string]string{header: nativeFooH(2)}) })
	tw.step("a: VALUE 2, build and run", func(s *side) string { return build(s, "a") })
	tw.step("b: still VALUE 1, build and run", func(s *side) string { return build(s, "b") })
	tw.both(func(s *side) { s.write("b", map[string]string{header: nativeFooH(3)}) })
	tw.step("b: VALUE 3, build and run", func(s *side) string { return build(s, "b") })
	tw.both(func(s *side) { s.write("b", map[string]string{header: nativeFooH(2)}) })
	tw.step("b: VALUE 2 as in a, build and run", func(s *side) string { return build(s, "b") })
}

const appMain = "fn main() { println!(\"value={}\", app::v()); }\n"

// B7: #[link(name = "foo", kind = "static")] in lib.rs, only a link search
// path from the build script: rustc bundles the archive into the rlib.
func TestTrustNativeLinkAttribute(t *testing.T) {
	t.Parallel()
	tw := newTwin(t, nativeFiles("", map[string]string{
		"Cargo.toml":  "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
		"build.rs":    nativeBuildRS(),
		"src/lib.rs":  "#[link(name = \"foo\", kind = \"static\")]\n" + nativeExtern + "pub fn v() -> i32 { unsafe { foo_value() } }\n",
		"src/main.rs": appMain,
	}))
	nativeScenario(t, tw, "csrc/foo.h", "target/debug/app", nil, nil, "app")
}

// B8: #[link(name = "foo")] (no kind) in a library package; the binary of
// another package links it.
func TestTrustNativeLinkAttributeOtherPackage(t *testing.T) {
	t.Parallel()
	tw := newTwin(t, nativeFiles("foo-sys", map[string]string{
		"Cargo.toml":         "[workspace]\nmembers = [\"foo-sys\", \"app\"]\nresolver = \"2\"\n",
		"foo-sys/Cargo.toml": "[package]\nname = \"foo-sys\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
		"foo-sys/build.rs":   nativeBuildRS(),
		"foo-sys/src/lib.rs": "#[link(name = \"foo\")]\n" + nativeExtern + "pub fn v() -> i32 { unsafe { foo_value() } }\n",
		"app/Cargo.toml":     "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[dependencies]\nfoo-sys = { path = \"../foo-sys\" }\n",
		"app/src/main.rs":    "fn main() { println!(\"value={}\", foo_sys::v()); }\n",
	}))
	nativeScenario(t, tw, "foo-sys/csrc/foo.h", "target/debug/app", nil, nil, "foo_sys", "app")
}

// B9: cargo:rustc-link-lib=static:-bundle=foo in a dependency: the archive
// is not bundled into the rlib; only the final link reads it.
func TestTrustNativeNoBundle(t *testing.T) {
	files := nativeFiles("foo-sys", map[string]string{
		"Cargo.toml":         "[workspace]\nmembers = [\"foo-sys\", \"app\"]\nresolver = \"2\"\n",
		"foo-sys/Cargo.toml": "[package]\nname = \"foo-sys\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
		"foo-sys/build.rs":   nativeBuildRS("cargo:rustc-link-lib=static:-bundle=foo"),
		"foo-sys/src/lib.rs": nativeExtern + "pub fn v() -> i32 { unsafe { foo_value() } }\n",
		"app/Cargo.toml":     "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[dependencies]\nfoo-sys = { path = \"../foo-sys\" }\n",
		"app/src/main.rs":    "fn main() { println!(\"value={}\", foo_sys::v()); }\n",
	})
	t.Run("release", func(t *testing.T) {
		t.Parallel()
		nativeScenario(t, newTwin(t, files), "foo-sys/csrc/foo.h", "target/release/app", nil, []string{"--release"}, "foo_sys", "app")
	})
	t.Run("incremental-off", func(t *testing.T) {
		t.Parallel()
		nativeScenario(t, newTwin(t, files), "foo-sys/csrc/foo.h", "target/debug/app", []string{"CARGO_INCREMENTAL=0"}, nil, "foo_sys", "app")
	})
}

// B10: cargo:rustc-link-arg=-lfoo plus the link search path: the library
// is named only inside a link argument. The same class, not in the issue:
// the search dir given in a link argument too, and the object itself named
// in one.
func TestTrustNativeLinkArg(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines []string
	}{
		{"link-search", []string{"cargo:rustc-link-arg=-lfoo"}},
		{"L-in-link-arg", []string{"cargo:rustc-link-arg=-L{out}", "cargo:rustc-link-arg=-lfoo"}},
		{"object", []string{"cargo:rustc-link-arg={out}/foo.o"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			build := nativeBuildRS(tc.lines...)
			if tc.name != "link-search" {
				build = strings.Replace(build, `    println!("cargo:rustc-link-search=native={out}");`+"\n", "", 1)
			}
			tw := newTwin(t, nativeFiles("", map[string]string{
				"Cargo.toml":  "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
				"build.rs":    build,
				"src/main.rs": nativeExtern + "fn main() { println!(\"value={}\", unsafe { foo_value() }); }\n",
			}))
			crates := []string{"app"}
			nativeScenario(t, tw, "csrc/foo.h", "target/debug/app", nil, nil, crates...)
		})
	}
}

// B11: cargo:rustc-link-lib=static:+verbatim=libfoo.a: the file name is
// given whole; the rlib bundles it.
func TestTrustNativeVerbatim(t *testing.T) {
	t.Parallel()
	tw := newTwin(t, nativeFiles("", map[string]string{
		"Cargo.toml":  "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
		"build.rs":    nativeBuildRS("cargo:rustc-link-lib=static:+verbatim=libfoo.a"),
		"src/lib.rs":  nativeExtern + "pub fn v() -> i32 { unsafe { foo_value() } }\n",
		"src/main.rs": appMain,
	}))
	nativeScenario(t, tw, "csrc/foo.h", "target/debug/app", nil, nil, "app")
}

// B12: a linker set with CARGO_TARGET_<TRIPLE>_LINKER that is a script
// reading a flags file next to it. The flags decide which object is linked
// in; b's flags differ from a's.
func TestTrustNativeScriptLinker(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("the linker variable and the script are written for x86_64 Linux")
	}
	t.Parallel()
	tw := newTwin(t, map[string]string{
		"Cargo.toml": "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
		"linker.sh": `#!/bin/sh
d=$(dirname "$0")
obj=$(mktemp --suffix=.o)
cc -c "$d/extra.c" -o "$obj" $(cat "$d/link.flags") || exit 1
cc "$@" "$obj"
st=$?
rm -f "$obj"
exit $st
`,
		"extra.c":     "int foo_value(void) { return VALUE; }\n",
		"link.flags":  "-DVALUE=1\n",
		"src/main.rs": nativeExtern + "fn main() { println!(\"value={}\", unsafe { foo_value() }); }\n",
	})
	tw.both(func(s *side) {
		for _, wt := range []string{"a", "b"} {
			if err := os.Chmod(filepath.Join(s.wt(wt), "linker.sh"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	})
	linker := func(s *side, wt string) []string {
		return []string{"CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER=" + filepath.Join(s.wt(wt), "linker.sh")}
	}
	build := func(s *side, wt string) string {
		return s.cargoEnv(wt, linker(s, wt), "build") + "\n" + s.run(wt, "target/debug/app")
	}
	tw.step("a: build and run", func(s *side) string { return build(s, "a") })
	tw.both(func(s *side) { s.write("b", map[string]string{"link.flags": "-DVALUE=2\n"}) })
	tw.step("b: other flags, build and run", func(s *side) string { return build(s, "b") })
	// Plain cargo relinks only when something it tracks changes: a touched
	// main.rs, as after an edit and its revert.
	tw.both(func(s *side) {
		s.write("a", map[string]string{"link.flags": "-DVALUE=3\n"})
		s.write("a", map[string]string{"src/main.rs": nativeExtern + "fn main() { println!(\"value={}\", unsafe { foo_value() }); }\n"})
	})
	tw.step("a: flags changed, main touched, build and run", func(s *side) string { return build(s, "a") })
}
