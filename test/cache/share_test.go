package cache_test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A proc-macro's shared library is shared by every worktree through the
// store (a hardlink on ext4) instead of copied into each, while Cargo in
// both worktrees sees every unit fresh and an edit of the macro in one
// worktree stays there.
func TestProcMacroIsShared(t *testing.T) {
	t.Parallel()
	tw := newTwin(t, map[string]string{
		"Cargo.toml":    "[workspace]\nresolver = \"2\"\nmembers = [\"pm\", \"app\"]\n",
		"pm/Cargo.toml": "[package]\nname = \"pm\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[lib]\nproc-macro = true\n",
		"pm/src/lib.rs": "use proc_macro::TokenStream;\n#[proc_macro]\npub fn answer(_: TokenStream) -> TokenStream { \"41\".parse().unwrap() }\n",
		"app/Cargo.toml": "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n" +
			"[dependencies]\npm = { path = \"../pm\" }\n",
		"app/src/main.rs": "fn main() { println!(\"{}\", pm::answer!() + 1); }\n",
	})
	for _, wt := range []string{"a", "b"} {
		tw.step(wt+": build", func(s *side) string { return s.cargo(wt, "build") + "\n" + s.run(wt, "target/debug/app") })
	}
	so := func(wt string) os.FileInfo {
		m, _ := filepath.Glob(filepath.Join(tw.grove.wt(wt), "target/debug/deps/libpm-*.so"))
		if len(m) != 1 {
			t.Fatalf("%s: proc-macro libraries %v, want one", wt, m)
		}
		fi, err := os.Stat(m[0])
		if err != nil {
			t.Fatal(err)
		}
		return fi
	}
	if !os.SameFile(so("a"), so("b")) {
		t.Errorf("b's proc-macro library is a copy, want the one file a's shares with the store")
	}
	tw.step("b: build again", func(s *side) string { return compiledUnits(s, "b") })
	tw.step("a: build after b", func(s *side) string { return compiledUnits(s, "a") })

	tw.both(func(s *side) {
		s.write("b", map[string]string{"pm/src/lib.rs": "use proc_macro::TokenStream;\n#[proc_macro]\npub fn answer(_: TokenStream) -> TokenStream { \"1\".parse().unwrap() }\n"})
	})
	tw.step("b: build after the macro changed", func(s *side) string {
		return s.cargo("b", "build") + "\n" + s.run("b", "target/debug/app")
	})
	tw.step("a: still a no-op, and a's program unchanged", func(s *side) string {
		return compiledUnits(s, "a") + "\n" + s.run("a", "target/debug/app")
	})
}

// inodeOf returns the one file matching glob (relative to wt) on the grove
// side, and its (dev, inode).
func inodeOf(t *testing.T, s *side, wt, glob string) (string, fileID) {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(s.wt(wt), glob))
	if len(m) != 1 {
		t.Fatalf("%s: %s matches %v, want one file", wt, glob, m)
	}
	fi, err := os.Stat(m[0])
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return m[0], fileID{uint64(st.Dev), uint64(st.Ino)}
}

type fileID struct{ dev, ino uint64 }

// storeInodes lists the inodes of every file in the store.
func storeInodes(t *testing.T, store string) map[fileID]bool {
	t.Helper()
	ids := map[fileID]bool{}
	err := filepath.WalkDir(store, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		ids[fileID{uint64(st.Dev), uint64(st.Ino)}] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// A build script's program behind a trampoline is linked to its blob in
// every worktree, compiled or restored: Cargo compares the trampoline, so
// the program's mtime does not matter. Cargo in both worktrees still finds
// every unit fresh, as plain cargo does.
func TestBuildScriptProgramIsShared(t *testing.T) {
	t.Parallel()
	tw := newTwin(t, genFixture())
	cacheRuns(tw)
	for _, wt := range []string{"a", "b"} {
		tw.step(wt+": build", func(s *side) string { return s.cargo(wt, "build") + "\n" + s.run(wt, "target/debug/app") })
	}
	const real = "target/debug/build/gen-*/build_script_build-*.grove-real"
	pa, a := inodeOf(t, tw.grove, "a", real)
	pb, b := inodeOf(t, tw.grove, "b", real)
	if a != b {
		t.Errorf("b's build-script program %s is a copy of a's %s, want the one file both share with the store", pb, pa)
	}
	if !storeInodes(t, tw.grove.e.store)[b] {
		t.Errorf("b's build-script program %s is not the store's blob", pb)
	}
	tw.step("b: build again", func(s *side) string { return compiledUnits(s, "b") })
	tw.step("a: build after b", func(s *side) string { return compiledUnits(s, "a") })
}

// Behind a trampoline the program is linked even when the mtime rule
// would want it fresh (a build-dependency restored after a revert is newer
// than the blob, and the restore replaces the trampoline): Cargo never
// stats it. The builds after it are no-ops in both worktrees, and the
// program run is the one of the reverted sources, as with plain cargo.
func TestBuildScriptTrampolineLinks(t *testing.T) {
	t.Parallel()
	files := genFixture()
	tw := newTwin(t, files)
	cacheRuns(tw)
	for _, wt := range []string{"a", "b"} {
		tw.step(wt+": build", func(s *side) string { return s.cargo(wt, "build") + "\n" + s.run(wt, "target/debug/app") })
	}
	tw.both(func(s *side) { s.write("b", map[string]string{"helper/src/lib.rs": "pub fn value() -> u32 { 2 }\n"}) })
	tw.step("b: build with the build-dependency changed", func(s *side) string {
		return compiledUnits(s, "b") + "\n" + s.run("b", "target/debug/app")
	})
	tw.both(func(s *side) { s.write("b", map[string]string{"helper/src/lib.rs": files["helper/src/lib.rs"]}) })
	tw.step("b: build with the build-dependency reverted", func(s *side) string {
		return compiledUnits(s, "b") + "\n" + s.run("b", "target/debug/app")
	})
	const real = "target/debug/build/gen-*/build_script_build-*.grove-real"
	pa, a := inodeOf(t, tw.grove, "a", real)
	pb, b := inodeOf(t, tw.grove, "b", real)
	if a != b {
		t.Errorf("after the revert b's build-script program %s is a copy, want a's %s, the store's", pb, pa)
	}
	tw.step("b: build again", func(s *side) string { return compiledUnits(s, "b") })
	tw.step("a: build after b", func(s *side) string {
		return compiledUnits(s, "a") + "\n" + s.run("a", "target/debug/app")
	})
}

// genFixture is a workspace whose member gen has a build script that
// generates code with a build-dependency (helper), and a proc-macro pm;
// app uses both.
func genFixture() map[string]string {
	return map[string]string{
		"Cargo.toml":        "[workspace]\nresolver = \"2\"\nmembers = [\"helper\", \"gen\", \"pm\", \"app\"]\n",
		"helper/Cargo.toml": "[package]\nname = \"helper\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
		"helper/src/lib.rs": "pub fn value() -> u32 { 1 }\n",
		"gen/Cargo.toml": "[package]\nname = \"gen\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n" +
			"[build-dependencies]\nhelper = { path = \"../helper\" }\n",
		"gen/build.rs": "fn main() {\n    println!(\"cargo:rerun-if-changed=build.rs\");\n" +
			"    let out = std::path::Path::new(&std::env::var(\"OUT_DIR\").unwrap()).join(\"v.rs\");\n" +
			"    std::fs::write(out, format!(\"pub const V: u32 = {};\\n\", helper::value())).unwrap();\n}\n",
		"gen/src/lib.rs": "include!(concat!(env!(\"OUT_DIR\"), \"/v.rs\"));\n",
		"pm/Cargo.toml":  "[package]\nname = \"pm\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[lib]\nproc-macro = true\n",
		"pm/src/lib.rs":  "use proc_macro::TokenStream;\n#[proc_macro]\npub fn answer(_: TokenStream) -> TokenStream { \"40\".parse().unwrap() }\n",
		"app/Cargo.toml": "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n" +
			"[dependencies]\ngen = { path = \"../gen\" }\npm = { path = \"../pm\" }\n",
		"app/src/main.rs": "fn main() { println!(\"{}\", pm::answer!() + gen::V); }\n",
	}
}

// A seeded worktree links what the rule shares from its donor, which are
// the store's blobs: rlibs, a registry proc-macro's library
// (serde_derive) and build scripts' programs (proc-macro2's, serde's),
// instead of copying them; its first build compiles no dependency and a
// build in the donor afterwards is still a no-op.
func TestSeededLibrariesAreShared(t *testing.T) {
	t.Parallel()
	needRegistry(t)
	tw := newTwin(t, map[string]string{
		".cargo/config.toml": registryConfig,
		"Cargo.toml":         "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nserde = { version = \"1\", features = [\"derive\"] }\n",
		"src/main.rs":        "#[derive(serde::Serialize, Debug)]\nstruct P { x: u32 }\nfn main() { println!(\"{:?}\", P { x: 1 }); }\n",
	})
	cacheRuns(tw)
	tw.step("a: build", func(s *side) string { return s.cargo("a", "build") + "\n" + s.run("a", "target/debug/app") })
	tw.step("b: seed", func(s *side) string { return s.seed("b") })
	tw.step("b: first build", func(s *side) string {
		got := compiledUnits(s, "b")
		if s.grove && (strings.Contains(got, "Compiling serde") || strings.Contains(got, "Compiling proc-macro2")) {
			t.Errorf("seeded worktree's first build compiled dependencies: %s", got)
		}
		return s.run("b", "target/debug/app")
	})
	blobs := storeInodes(t, tw.grove.e.store)
	for _, glob := range []string{
		"target/debug/deps/libserde_derive-*.so",
		"target/debug/deps/libsyn-*.rlib",
		"target/debug/build/proc-macro2-*/build_script_build-*.grove-real",
		"target/debug/build/serde-*/build_script_build-*.grove-real",
	} {
		pa, a := inodeOf(t, tw.grove, "a", glob)
		pb, b := inodeOf(t, tw.grove, "b", glob)
		if a != b || !blobs[b] {
			t.Errorf("seeded %s is not the donor's %s, the store's blob (same file %v, in the store %v)", pb, pa, a == b, blobs[b])
		}
	}
	tw.step("b: build again", func(s *side) string { return compiledUnits(s, "b") })
	tw.step("a: build after b", func(s *side) string { return compiledUnits(s, "a") })
}

// stamps records every regular file of a worktree's target dir: inode,
// size and mtime.
func stamps(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(filepath.Join(dir, "target"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		m[p] = fmt.Sprintf("ino %d size %d mtime %d", fi.Sys().(*syscall.Stat_t).Ino, fi.Size(), fi.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Edits and rebuilds in one worktree leave another worktree's target dir
// as it was, file by file (inode, size, mtime: a shared inode re-dated or
// written through would show), and that worktree's next build is a no-op
// whose program prints what plain cargo's does.
func TestOtherWorktreeUntouchedByEdits(t *testing.T) {
	t.Parallel()
	files := genFixture()
	tw := newTwin(t, files)
	cacheRuns(tw)
	for _, wt := range []string{"a", "b"} {
		tw.step(wt+": build", func(s *side) string { return s.cargo(wt, "build") + "\n" + s.run(wt, "target/debug/app") })
	}
	before := stamps(t, tw.grove.wt("a"))
	for i, change := range []map[string]string{
		{"pm/src/lib.rs": strings.Replace(files["pm/src/lib.rs"], "40", "30", 1)},
		{"helper/src/lib.rs": "pub fn value() -> u32 { 3 }\n"},
		{"pm/src/lib.rs": files["pm/src/lib.rs"], "helper/src/lib.rs": files["helper/src/lib.rs"]},
	} {
		tw.both(func(s *side) { s.write("b", change) })
		tw.step(fmt.Sprintf("b: build after edit %d", i+1), func(s *side) string {
			return compiledUnits(s, "b") + "\n" + s.run("b", "target/debug/app")
		})
	}
	after := stamps(t, tw.grove.wt("a"))
	for p, was := range before {
		if now := after[p]; now != was {
			t.Errorf("a's %s changed while b was edited and built: %s, now %q", p, was, now)
		}
	}
	tw.step("a: build after b's edits", func(s *side) string {
		return compiledUnits(s, "a") + "\n" + s.run("a", "target/debug/app")
	})
}

// Cargo (1.93+) re-dates the outputs of a check unit to the unit's start
// after rustc returns. Were they shared, a `cargo check` in one worktree
// would re-date the other's rmeta: a's y, re-dated by b's check, newer
// than a's x, makes a check x again (a spurious rebuild); and b's x,
// checked against the y b had before an edit, re-dated by a's check, would
// look newer than b's new y and be taken as fresh, missing the error plain
// cargo reports.
func TestCheckOutputsStayInTree(t *testing.T) {
	t.Parallel()
	y := "pub fn f() -> u32 { 1 }\npub fn g() -> u32 { 2 }\n"
	tw := newTwin(t, map[string]string{
		"Cargo.toml":   "[workspace]\nresolver = \"2\"\nmembers = [\"x\", \"y\"]\n",
		"y/Cargo.toml": "[package]\nname = \"y\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
		"y/src/lib.rs": y,
		"x/Cargo.toml": "[package]\nname = \"x\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\ny = { path = \"../y\" }\n",
		"x/src/lib.rs": "pub fn h() -> u32 { y::f() }\n",
	})
	for _, wt := range []string{"a", "b"} {
		tw.step(wt+": check", func(s *side) string { return checked(s, wt) })
	}
	// b's check re-dated b's y; shared, a's y would now be newer than a's x.
	tw.step("a: check after b's", func(s *side) string { return checked(s, "a") })
	tw.both(func(s *side) { s.write("b", map[string]string{"y/src/lib.rs": "pub fn g() -> u32 { 2 }\n"}) })
	tw.step("b: check y alone after removing f", func(s *side) string { return checked(s, "b", "-p", "y") })
	tw.both(func(s *side) { s.write("a", map[string]string{"y/src/lib.rs": y}) }) // same bytes, new mtime
	tw.step("a: check after touching y", func(s *side) string { return checked(s, "a") })
	tw.step("b: check: x uses the removed f", func(s *side) string { return checked(s, "b") })
	tw.step("a: check again", func(s *side) string { return checked(s, "a") })
	tw.both(func(s *side) { s.write("b", map[string]string{"y/src/lib.rs": y}) })
	tw.step("b: check after the revert", func(s *side) string { return checked(s, "b") })
	tw.step("a: build", func(s *side) string { return compiledUnits(s, "a") })
	tw.step("b: build", func(s *side) string { return compiledUnits(s, "b") })
	tw.step("a: check after the builds", func(s *side) string { return checked(s, "a") })
}

// checked runs cargo check and returns its exit status, the units it
// checked or compiled, and the error codes it reported.
func checked(s *side, wt string, args ...string) string {
	code, _, stderr := s.cargoOut(wt, nil, append([]string{"check"}, args...)...)
	var lines []string
	for _, l := range strings.Split(stderr, "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "Checking ") || strings.HasPrefix(l, "Compiling ") || strings.HasPrefix(l, "error[") {
			lines = append(lines, l)
		}
	}
	return fmt.Sprintf("exit %d %v", code, lines)
}

// Issue 9: in a new worktree a library above another library that has a
// build script stays linked to the store. The build script's run is
// dated now, so the lower library writes one output fresh (restore rule
// 2); it writes its small rlib, and Cargo compares a library that needs
// only metadata with the rmeta alone, so the one above keeps the store's
// files instead of writing its own rmeta fresh, and so on up. Both
// worktrees stay fresh, as with plain cargo, on both target-dir layouts.
func TestLibraryAboveBuildScriptIsShared(t *testing.T) {
	manifest := func(name, dep string) string {
		s := "[package]\nname = \"" + name + "\"\nversion = \"0.1.0\"\nedition = \"2021\"\n"
		if dep != "" {
			s += "\n[dependencies]\n" + dep + " = { path = \"../" + dep + "\" }\n"
		}
		return s
	}
	files := map[string]string{
		"Cargo.toml":      "[workspace]\nresolver = \"2\"\nmembers = [\"l\", \"d\", \"app\"]\n",
		"l/Cargo.toml":    manifest("l", ""),
		"l/build.rs":      "fn main() {\n    println!(\"cargo:rerun-if-changed=build.rs\");\n    println!(\"cargo:rustc-env=L_GEN=7\");\n}\n",
		"l/src/lib.rs":    "pub fn v() -> u32 { env!(\"L_GEN\").parse().unwrap() }\n",
		"d/Cargo.toml":    manifest("d", "l"),
		"d/src/lib.rs":    "pub fn w() -> u32 { l::v() + 1 }\n",
		"app/Cargo.toml":  manifest("app", "d"),
		"app/src/main.rs": "fn main() { println!(\"{}\", d::w()); }\n",
	}
	eachLayout(t, files, func(tw *twin) {
		for _, wt := range []string{"a", "b"} {
			tw.step(wt+": build", func(s *side) string { return s.cargo(wt, "build") + "\n" + s.run(wt, "target/debug/app") })
		}
		tw.step("b: build again", func(s *side) string { return compiledUnits(s, "b") })
		tw.step("a: build after b", func(s *side) string { return compiledUnits(s, "a") })
		for _, ext := range []string{".rmeta", ".rlib"} {
			a, b := libFile(t, tw.grove, "a", "libd-", ext), libFile(t, tw.grove, "b", "libd-", ext)
			if !os.SameFile(a, b) {
				t.Errorf("b's %s of d is a copy, want the file a shares with the store", ext)
			}
		}
		tw.step("b: and again", func(s *side) string { return compiledUnits(s, "b") })
	})
}

// libFile finds the one file named prefix*ext under wt's target dir on
// side s, in either layout.
func libFile(t *testing.T, s *side, wt, prefix, ext string) os.FileInfo {
	t.Helper()
	var found []string
	filepath.WalkDir(filepath.Join(s.wt(wt), "target"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasPrefix(d.Name(), prefix) && strings.HasSuffix(d.Name(), ext) {
			found = append(found, p)
		}
		return nil
	})
	if len(found) != 1 {
		t.Fatalf("%s: %s*%s: %v, want one", wt, prefix, ext, found)
	}
	fi, err := os.Stat(found[0])
	if err != nil {
		t.Fatal(err)
	}
	return fi
}
