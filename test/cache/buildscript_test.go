package cache_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/grove-rs/grove/internal/stats"
)

// Build-script runs (issue 11 item 5, GROVE_CACHE_BUILD_SCRIPTS=1): grove
// replays a stored run of a build script only when the run would give
// the same result, with this tree's paths. Every scenario is a twin:
// plain cargo and grove must print the same, in every worktree; the log
// says which runs grove replayed.

// cacheRuns turns build-script caching on for both sides (the plain side
// never runs grove, so only the grove side's log fills), and detaches
// worktrees a and b (detachRuns).
func cacheRuns(tw *twin) {
	tw.both(func(s *side) {
		s.e.extra = append(s.e.extra, "GROVE_CACHE_BUILD_SCRIPTS=1", "GROVE_LOG="+filepath.Join(s.root, "grove.log"))
	})
	detachRuns(tw)
}

// detachRuns detaches worktrees a and b at their commit, on both sides:
// a run of a workspace package that read git is replayed only into a tree
// whose git state is the same, branch included (key.GitHead), and the
// twins' a and b are on two branches. A run that reads no git may still
// count as reading it when another script's trampoline keyed its run
// (git status) meanwhile, so tests that count replays stay detached.
// Worktrees added later (addWorktree) are detached too.
// TestBuildRunGitBranchAndTags and buildrun_gitread_test.go are the tests
// with branches.
func detachRuns(tw *twin) {
	tw.both(func(s *side) {
		s.git("a", "checkout", "-q", "--detach")
		s.git("b", "checkout", "-q", "--detach")
	})
}

// runLog counts the grove side's build-script lines in its log since the
// last call: "hit PKG" and "miss PKG" (a run not stored, or not cacheable,
// counts as ran).
type runLog struct {
	s    *side
	seen int
}

func (l *runLog) next() (hits, ran []string) {
	b, _ := os.ReadFile(filepath.Join(l.s.root, "grove.log"))
	lines := strings.Split(string(b), "\n")
	for _, ln := range lines[l.seen:] {
		_, rest, ok := strings.Cut(ln, "] ")
		if !ok {
			continue
		}
		f := strings.Fields(strings.ReplaceAll(rest, ":", " "))
		switch {
		case len(f) >= 3 && f[0] == "build-script" && f[1] == "hit":
			hits = append(hits, f[2])
		case len(f) >= 3 && f[0] == "build-script" && (f[1] == "miss" || f[1] == "failed"):
			ran = append(ran, f[2])
		}
	}
	l.seen = len(lines) - 1
	return hits, ran
}

// expect checks which packages' runs were replayed and which ran.
func (l *runLog) expect(t *testing.T, step, hits, ran string) {
	t.Helper()
	h, r := l.next()
	if got := strings.Join(sorted(h), ","); got != hits {
		t.Errorf("%s: replayed runs %q, want %q", step, got, hits)
	}
	if got := strings.Join(sorted(r), ","); got != ran {
		t.Errorf("%s: runs %q, want %q", step, got, ran)
	}
	if t.Failed() {
		b, _ := os.ReadFile(filepath.Join(l.s.root, "grove.log"))
		t.Logf("log:\n%s", lastLines(string(b), 12))
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// The bundled example: alpha's script compiles C into OUT_DIR (an object
// and an archive with debug info naming the tree) and prints
// rustc-link-search with its OUT_DIR; beta's generates code and points a
// rustc-env at a file in its OUT_DIR. A second worktree replays both with
// its own paths; an edit of a declared input in b runs that script again.
func TestBuildScriptRunExample(t *testing.T) {
	t.Parallel()
	buildScriptRunExample(t, nil)
}

// The same in Cargo's per-unit build-dir layout (build/<pkg>/<hash>/out/,
// where Cargo runs out/build_script_build itself).
func TestBuildScriptRunExampleNewLayout(t *testing.T) {
	t.Parallel()
	needNightly(t)
	buildScriptRunExample(t, nightlyNewLayout)
}

func buildScriptRunExample(t *testing.T, extra []string) {
	tw := newTwin(t, fixture())
	tw.both(func(s *side) { s.e.extra = append(s.e.extra, extra...) })
	cacheRuns(tw)
	log := &runLog{s: tw.grove}
	tw.step("a: build", func(s *side) string { return s.cargo("a", "build") + "\n" + s.run("a", "target/debug/app") })
	log.expect(t, "a: build", "", "alpha,beta")
	tw.step("b: build", func(s *side) string { return s.cargo("b", "build") + "\n" + s.run("b", "target/debug/app") })
	log.expect(t, "b: build", "alpha,beta", "")
	tw.step("b: the runs' output names b", func(s *side) string { return buildOutputs(s, "b") })
	tw.step("b: no-op", func(s *side) string { return s.cargo("b", "build") + "\n" + s.run("b", "target/debug/app") })
	log.expect(t, "b: no-op", "", "")

	tw.both(func(s *side) {
		s.write("b", map[string]string{"beta/gen-input.txt": "gen-b\n", "alpha/csrc/f.c": "int grove_f(void) { return 31; }\n"})
	})
	tw.step("b: edited declared inputs", func(s *side) string { return s.cargo("b", "build") + "\n" + s.run("b", "target/debug/app") })
	log.expect(t, "b: edited declared inputs", "", "alpha,beta")

	// b's runs went into a full OUT_DIR and were not stored: a fresh
	// worktree c at b's sources runs them, and d replays c's.
	tw.both(func(s *side) {
		s.git("b", "commit", "-qam", "b")
		s.addWorktree("c")
		s.git("c", "checkout", "-q", "--detach", strings.TrimSpace(s.git("b", "rev-parse", "HEAD")))
		s.addWorktree("d")
		s.git("d", "checkout", "-q", "--detach", strings.TrimSpace(s.git("b", "rev-parse", "HEAD")))
	})
	tw.step("c: build at b's commit", func(s *side) string { return s.cargo("c", "build") + "\n" + s.run("c", "target/debug/app") })
	log.expect(t, "c: build at b's commit", "", "alpha,beta")
	tw.step("d: build at b's commit", func(s *side) string { return s.cargo("d", "build") + "\n" + s.run("d", "target/debug/app") })
	log.expect(t, "d: build at b's commit", "alpha,beta", "")
}

// buildOutputs lists the `output` files Cargo kept of every build-script
// run in worktree wt: what the runs printed, with paths.
func buildOutputs(s *side, wt string) string {
	ms, _ := filepath.Glob(filepath.Join(s.wt(wt), "target/debug/build/*/output"))
	var b strings.Builder
	for _, m := range sorted(ms) {
		data, _ := os.ReadFile(m)
		rel, _ := filepath.Rel(s.wt(wt), m)
		// the unit hash is the same on both sides; keep it
		b.WriteString(rel + ":\n" + strings.ReplaceAll(string(data), s.root, "<root>") + "\n")
	}
	return b.String()
}

// one package with a build script, used by an app that prints what the
// library exposes.
func scriptCrate(buildRS, libRS string, extra map[string]string) map[string]string {
	files := map[string]string{
		"Cargo.toml":      "[workspace]\nmembers = [\"g\", \"app\"]\nresolver = \"2\"\n",
		"g/Cargo.toml":    "[package]\nname = \"g\"\nversion = \"0.1.0\"\nedition = \"2021\"\nbuild = \"build.rs\"\n",
		"g/build.rs":      buildRS,
		"g/src/lib.rs":    libRS,
		"app/Cargo.toml":  "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\ng = { path = \"../g\" }\n",
		"app/src/main.rs": "fn main() { println!(\"{}\", g::show()); }\n",
		".gitignore":      "target/\n",
	}
	for k, v := range extra {
		files[k] = v
	}
	return files
}

// Generated code that names OUT_DIR (a const path read at run time, a
// rustc-env pointing into OUT_DIR) is replayed with b's OUT_DIR: b's
// program reads b's file, as with plain cargo. A binary file naming the
// tree cannot be rewritten: that run is pinned, and b runs its own.
func TestBuildScriptRunOutDirPaths(t *testing.T) {
	t.Parallel()
	build := `use std::io::Write;
fn main() {
    let out = std::env::var("OUT_DIR").unwrap();
    std::fs::write(format!("{out}/data.txt"), "from-out-dir").unwrap();
    std::fs::create_dir_all(format!("{out}/sub")).unwrap();
    std::fs::write(format!("{out}/sub/gen.rs"), format!("pub const P: &str = {:?};", format!("{out}/data.txt"))).unwrap();
    if std::path::Path::new("binary").exists() {
        let mut f = std::fs::File::create(format!("{out}/blob.bin")).unwrap();
        f.write_all(&[0xff, 0xfe, 0]).unwrap();
        f.write_all(out.as_bytes()).unwrap();
    }
    println!("cargo:rustc-env=G_DATA={out}/data.txt");
    println!("cargo:rerun-if-changed=build.rs");
}
`
	lib := `include!(concat!(env!("OUT_DIR"), "/sub/gen.rs"));
pub fn show() -> String {
    format!("P={} read={} env={}", P, std::fs::read_to_string(P).unwrap(), env!("G_DATA"))
}
`
	tw := newTwin(t, scriptCrate(build, lib, nil))
	cacheRuns(tw)
	log := &runLog{s: tw.grove}
	tw.step("a: build", func(s *side) string { return s.cargo("a", "build") + "\n" + s.run("a", "target/debug/app") })
	log.expect(t, "a: build", "", "g")
	tw.step("b: build", func(s *side) string { return s.cargo("b", "build") + "\n" + s.run("b", "target/debug/app") })
	log.expect(t, "b: build", "g", "")
	// The tree a built is gone: b must not read a's files.
	tw.both(func(s *side) { os.RemoveAll(filepath.Join(s.wt("a"), "target")) })
	tw.step("b: run without a's target", func(s *side) string { return s.run("b", "target/debug/app") })

	// A binary output naming OUT_DIR pins the run to its tree.
	tw.both(func(s *side) {
		s.write("b", map[string]string{"g/binary": "1\n"})
		s.addWorktree("c")
		s.write("c", map[string]string{"g/binary": "1\n"})
	})
	// Only build.rs is declared: Cargo does not run the script for the
	// new file in a built tree, with grove or without.
	tw.step("b: build, binary output", func(s *side) string { return s.cargo("b", "build") + "\n" + s.run("b", "target/debug/app") })
	log.expect(t, "b: build, binary output", "", "")
	os.RemoveAll(filepath.Join(tw.grove.wt("b"), "target")) // empty OUT_DIR in b: stored, pinned to b
	os.RemoveAll(filepath.Join(tw.plain.wt("b"), "target"))
	tw.step("b: rebuild, binary output", func(s *side) string { return s.cargo("b", "build") + "\n" + s.run("b", "target/debug/app") })
	log.next()
	tw.step("c: build, binary output", func(s *side) string {
		return s.cargo("c", "build") + "\n" + s.run("c", "target/debug/app") + "\n" + s.tree("c", "target/debug/build/g-*/out/blob.bin")
	})
	log.expect(t, "c: build, binary output", "", "g")
	if b, err := os.ReadFile(globOne(t, filepath.Join(tw.grove.wt("c"), "target/debug/build/g-*/out/blob.bin"))); err != nil || !strings.Contains(string(b), tw.grove.wt("c")) {
		t.Errorf("c's blob.bin does not name c: %q %v", b, err)
	}
}

func globOne(t *testing.T, pattern string) string {
	t.Helper()
	ms, _ := filepath.Glob(pattern)
	for _, m := range ms {
		if st, err := os.Stat(m); err == nil && !st.IsDir() {
			return m
		}
	}
	t.Fatalf("no file matches %s", pattern)
	return ""
}

// Environment: a declared variable (rerun-if-env-changed) and one the
// script reads without declaring it. A fresh worktree under plain cargo
// runs the script with today's values of both; so must grove.
func TestBuildScriptRunEnv(t *testing.T) {
	t.Parallel()
	build := `fn main() {
    println!("cargo:rerun-if-env-changed=G_MODE");
    println!("cargo:rustc-env=G_MODE={}", std::env::var("G_MODE").unwrap_or_default());
    println!("cargo:rustc-env=G_SLY={}", std::env::var("G_SLY").unwrap_or_default());
}
`
	lib := `pub fn show() -> String { format!("mode={} sly={}", env!("G_MODE"), env!("G_SLY")) }
`
	tw := newTwin(t, scriptCrate(build, lib, nil))
	cacheRuns(tw)
	log := &runLog{s: tw.grove}
	build1 := func(wt string, env ...string) func(s *side) string {
		return func(s *side) string { return s.cargoEnv(wt, env, "build") + "\n" + s.run(wt, "target/debug/app") }
	}
	tw.step("a: build x", build1("a", "G_MODE=x", "G_SLY=1"))
	log.expect(t, "a", "", "g")
	tw.step("b: build y", build1("b", "G_MODE=y", "G_SLY=1"))
	log.expect(t, "b", "", "g")
	tw.both(func(s *side) { s.addWorktree("c"); s.addWorktree("d"); s.addWorktree("e") })
	tw.step("c: build x", build1("c", "G_MODE=x", "G_SLY=1"))
	log.expect(t, "c", "g", "")
	tw.step("d: build x, undeclared changed", build1("d", "G_MODE=x", "G_SLY=2"))
	log.expect(t, "d", "", "g")
	tw.step("e: build y", build1("e", "G_MODE=y", "G_SLY=1"))
	log.expect(t, "e", "g", "")
}

// Files: with no rerun-if lines Cargo watches the whole package; with
// rerun-if-changed=build.rs only, a script may still read its other
// files; a declared file outside the package is an input too. Each edited
// in a fresh worktree before its first build: plain cargo runs the script
// there with the edit, and grove must not replay a's run.
func TestBuildScriptRunFiles(t *testing.T) {
	t.Parallel()
	build := `fn main() {
    let m = std::fs::read_to_string("mode.txt").unwrap();
    let sly = std::fs::read_to_string("data/sly.txt").unwrap();
    let shared = std::fs::read_to_string("../shared/s.txt").unwrap();
    if std::path::Path::new("declare").exists() {
        println!("cargo:rerun-if-changed=build.rs");
        println!("cargo:rerun-if-changed=../shared/s.txt");
    }
    println!("cargo:rustc-env=G_ALL={}/{}/{}", m.trim(), sly.trim(), shared.trim());
}
`
	lib := `pub fn show() -> String { env!("G_ALL").to_string() }
`
	files := scriptCrate(build, lib, map[string]string{
		"g/mode.txt": "m1\n", "g/data/sly.txt": "s1\n", "shared/s.txt": "x1\n",
	})
	tw := newTwin(t, files)
	cacheRuns(tw)
	log := &runLog{s: tw.grove}
	run := func(wt string) func(s *side) string {
		return func(s *side) string { return s.cargo(wt, "build") + "\n" + s.run(wt, "target/debug/app") }
	}
	tw.step("a: build", run("a"))
	log.expect(t, "a", "", "g")
	tw.both(func(s *side) { s.write("b", map[string]string{"g/mode.txt": "m2\n"}) })
	tw.step("b: no rerun-if lines, package file edited", run("b"))
	log.expect(t, "b", "", "g")

	// Declared: build.rs and ../shared/s.txt.
	tw.both(func(s *side) {
		s.write("a", map[string]string{"g/declare": "1\n"})
		s.git("a", "add", "-A")
		s.git("a", "commit", "-qm", "declare")
		for _, wt := range []string{"c", "d", "e"} {
			s.addWorktree(wt)
		}
	})
	tw.step("a: build, declared", run("a"))
	log.expect(t, "a declared", "", "g")
	tw.step("c: build, declared, same files", run("c"))
	log.expect(t, "c", "g", "")
	tw.both(func(s *side) { s.write("d", map[string]string{"g/data/sly.txt": "s2\n"}) })
	tw.step("d: undeclared package file edited", run("d"))
	log.expect(t, "d", "", "g")
	tw.both(func(s *side) { s.write("e", map[string]string{"shared/s.txt": "x2\n"}) })
	tw.step("e: declared file outside the package edited", run("e"))
	log.expect(t, "e", "", "g")
	tw.step("e: edit it back, rerun", func(s *side) string {
		s.write("e", map[string]string{"shared/s.txt": "x1\n"})
		return run("e")(s)
	})
	log.next()
}

// A failing script fails the build in every worktree, as with plain
// cargo: a failure is never stored, and never hides a later success.
func TestBuildScriptRunFails(t *testing.T) {
	t.Parallel()
	build := `fn main() {
    println!("cargo:rerun-if-changed=fail.txt");
    let f = std::fs::read_to_string("fail.txt").unwrap();
    if f.trim() == "1" { eprintln!("script says no"); std::process::exit(3); }
    println!("cargo:rustc-env=G_F={}", f.trim());
}
`
	lib := `pub fn show() -> String { env!("G_F").to_string() }
`
	tw := newTwin(t, scriptCrate(build, lib, map[string]string{"g/fail.txt": "1\n"}))
	cacheRuns(tw)
	log := &runLog{s: tw.grove}
	fails := func(wt string) func(s *side) string {
		return func(s *side) string {
			code, _, stderr := s.cargoOut(wt, nil, "build")
			said := strings.Contains(stderr, "script says no") && strings.Contains(stderr, "exit status: 3")
			return strings.Join([]string{"exit", strconv.Itoa(code), "said:", strconv.Itoa(b2i(said))}, " ")
		}
	}
	tw.step("a: build fails", fails("a"))
	log.expect(t, "a", "", "g")
	tw.step("b: build fails too", fails("b"))
	log.expect(t, "b", "", "g")
	tw.both(func(s *side) { s.write("b", map[string]string{"g/fail.txt": "0\n"}) })
	tw.step("b: fixed", func(s *side) string { return s.cargo("b", "build") + "\n" + s.run("b", "target/debug/app") })
	tw.both(func(s *side) { s.addWorktree("c") })
	tw.step("c: still fails", fails("c"))
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// A trampoline left in a target dir never breaks a build without grove:
// Cargo's wrapper unset (grove off), GROVE_DISABLE=1, or the grove binary
// the trampoline names gone. Each time Cargo reruns the script (an edited
// input), the real script runs.
func TestBuildScriptRunWithoutGrove(t *testing.T) {
	t.Parallel()
	tw := newTwin(t, fixture())
	cacheRuns(tw)
	log := &runLog{s: tw.grove}
	// The grove side runs a copy of grove that can be removed later.
	dir := t.TempDir()
	self := filepath.Join(dir, "grove")
	data, err := os.ReadFile(groveBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(self, data, 0o755); err != nil {
		t.Fatal(err)
	}
	wrapper := func(s *side) []string {
		if s.grove {
			return []string{"RUSTC_WRAPPER=" + self}
		}
		return nil
	}
	build := func(wt string, extra ...string) func(s *side) string {
		return func(s *side) string {
			return s.cargoEnv(wt, append(wrapper(s), extra...), "build") + "\n" + s.run(wt, "target/debug/app")
		}
	}
	tw.step("a: build", build("a"))
	log.expect(t, "a", "", "alpha,beta")
	tw.step("b: build", build("b"))
	log.expect(t, "b", "alpha,beta", "")
	// What Cargo runs in b stays the trampoline throughout: Cargo does not
	// recompile a build script when the wrapper changes.
	trampoline := func(step string) {
		t.Helper()
		ms, _ := filepath.Glob(filepath.Join(tw.grove.wt("b"), "target/debug/build/*/build-script-build"))
		for _, m := range ms {
			if b, _ := os.ReadFile(m); !strings.HasPrefix(string(b), "#!/bin/sh\n# grove build-script trampoline") {
				t.Errorf("%s: %s is not a trampoline", step, m)
			}
		}
		if len(ms) != 2 {
			t.Errorf("%s: %d build scripts, want 2", step, len(ms))
		}
	}
	edit := func(v string) {
		tw.both(func(s *side) {
			s.write("b", map[string]string{"beta/gen-input.txt": v + "\n", "alpha/csrc/f.c": "int grove_f(void) { return " + strconv.Itoa(len(v)) + "; }\n"})
		})
	}
	edit("off")
	tw.step("b: wrapper unset (grove off)", build("b", "RUSTC_WRAPPER="))
	log.expect(t, "b off", "", "")
	trampoline("b off")
	edit("disabled")
	tw.step("b: GROVE_DISABLE=1", build("b", "GROVE_DISABLE=1"))
	log.expect(t, "b disabled", "", "")
	trampoline("b disabled")
	edit("caching-off")
	tw.step("b: GROVE_CACHE_BUILD_SCRIPTS=0", build("b", "GROVE_CACHE_BUILD_SCRIPTS=0"))
	log.expect(t, "b caching off", "", "")
	trampoline("b caching off")
	if err := os.Remove(self); err != nil {
		t.Fatal(err)
	}
	edit("uninstalled")
	tw.step("b: grove uninstalled", build("b", "RUSTC_WRAPPER="))
	log.expect(t, "b uninstalled", "", "")
	trampoline("b uninstalled")
}

// Links metadata naming a path dependency's sources: z (links = "z")
// passes its include dir in DEP_Z_INCLUDE, and g's script reads the
// header there without declaring it. An uncommitted edit of the header
// in a fresh worktree makes plain cargo run g's script with it (Cargo
// reruns a script whenever a links dependency's run changed); grove must
// not replay a's run of g, whose DEP_ value is the same text.
func TestBuildScriptRunLinksSources(t *testing.T) {
	t.Parallel()
	build := `fn main() {
    let inc = std::env::var("DEP_Z_INCLUDE").unwrap();
    let h = std::fs::read_to_string(format!("{inc}/z.h")).unwrap();
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-env=G_H={}", h.trim());
}
`
	lib := `pub fn show() -> String { env!("G_H").to_string() }
`
	tw := newTwin(t, scriptCrate(build, lib, map[string]string{
		"Cargo.toml":    "[workspace]\nmembers = [\"g\", \"z\", \"app\"]\nresolver = \"2\"\n",
		"g/Cargo.toml":  "[package]\nname = \"g\"\nversion = \"0.1.0\"\nedition = \"2021\"\nbuild = \"build.rs\"\n\n[dependencies]\nz = { path = \"../z\" }\n",
		"z/Cargo.toml":  "[package]\nname = \"z\"\nversion = \"0.1.0\"\nedition = \"2021\"\nlinks = \"z\"\nbuild = \"build.rs\"\n",
		"z/build.rs":    "fn main() {\n    println!(\"cargo:include={}/include\", std::env::var(\"CARGO_MANIFEST_DIR\").unwrap());\n    println!(\"cargo:rerun-if-changed=include\");\n}\n",
		"z/src/lib.rs":  "",
		"z/include/z.h": "#define Z 1\n",
	}))
	cacheRuns(tw)
	log := &runLog{s: tw.grove}
	run := func(wt string) func(s *side) string {
		return func(s *side) string { return s.cargo(wt, "build") + "\n" + s.run(wt, "target/debug/app") }
	}
	tw.step("a: build", run("a"))
	log.expect(t, "a", "", "g,z")
	tw.both(func(s *side) { s.addWorktree("c") })
	tw.step("c: build, same sources", run("c"))
	log.expect(t, "c", "g,z", "")
	tw.both(func(s *side) { s.write("b", map[string]string{"z/include/z.h": "#define Z 2\n"}) })
	tw.step("b: header edited, not committed", run("b"))
	log.expect(t, "b", "", "g,z")
}

// Two builds that run one script on the same inputs at once: one runs it,
// the other waits and replays that run (single flight), and both give what
// plain cargo gives. `grove stats` counts the runs apart from compiles.
func TestBuildScriptRunSingleFlight(t *testing.T) {
	t.Parallel()
	build := `fn main() {
    std::thread::sleep(std::time::Duration::from_secs(3));
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-env=G_V=slow");
}
`
	lib := `pub fn show() -> String { env!("G_V").to_string() }
`
	tw := newTwin(t, scriptCrate(build, lib, nil))
	cacheRuns(tw)
	tw.both(func(s *side) { s.addWorktree("c") })
	tw.step("b and c at once", func(s *side) string {
		var wg sync.WaitGroup
		out := make([]string, 2)
		for i, wt := range []string{"b", "c"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out[i] = s.cargo(wt, "build") + "\n" + s.run(wt, "target/debug/app")
			}()
		}
		wg.Wait()
		return strings.Join(out, "\n")
	})
	var hits, stored int
	for _, ev := range tw.grove.events() {
		if ev.Run && ev.Crate == "g" {
			switch ev.Kind {
			case stats.Hit:
				hits++
			case stats.Miss:
				stored++
			}
		}
	}
	if hits != 1 || stored != 1 {
		t.Errorf("g's runs: %d replayed, %d stored; want one run, replayed by the other build", hits, stored)
	}
	if sum := stats.Summarize(tw.grove.events()); sum.Runs.Replayed != 1 || sum.Runs.Stored != 1 || sum.Invocations == 0 {
		t.Errorf("summary: %+v", sum.Runs)
	}
}

// With GROVE_CACHE_BUILD_SCRIPTS unset, runs are cached: the example's
// scripts run in a and are replayed in b, with plain cargo's results.
func TestBuildScriptRunByDefault(t *testing.T) {
	t.Parallel()
	tw := newTwin(t, fixture())
	tw.both(func(s *side) {
		// TestMain turns runs off for the other tests; empty is unset.
		s.e.extra = append(s.e.extra, "GROVE_CACHE_BUILD_SCRIPTS=", "GROVE_LOG="+filepath.Join(s.root, "grove.log"))
	})
	detachRuns(tw)
	log := &runLog{s: tw.grove}
	tw.step("a: build", func(s *side) string { return s.cargo("a", "build") + "\n" + s.run("a", "target/debug/app") })
	log.expect(t, "a", "", "alpha,beta")
	tw.step("b: build", func(s *side) string { return s.cargo("b", "build") + "\n" + s.run("b", "target/debug/app") })
	log.expect(t, "b", "alpha,beta", "")
}

// A package outside the worktrees (a path dependency beside the
// repository, as a directory source's registry crate is) that declares
// its own build.rs: every worktree's run reads that one dir, so b
// replays a's run, and an edit there runs it again.
func TestBuildScriptRunPackageOutsideTree(t *testing.T) {
	t.Parallel()
	tw := newTwin(t, map[string]string{
		"Cargo.toml":      "[workspace]\nmembers = [\"app\"]\nresolver = \"2\"\n",
		"app/Cargo.toml":  "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\ng = { path = \"../../ext/g\" }\n",
		"app/src/main.rs": "fn main() { println!(\"{}\", g::show()); }\n",
		".gitignore":      "target/\n",
	})
	cacheRuns(tw)
	tw.both(func(s *side) {
		for p, c := range map[string]string{
			"ext/g/Cargo.toml": "[package]\nname = \"g\"\nversion = \"0.1.0\"\nedition = \"2021\"\nbuild = \"build.rs\"\n",
			"ext/g/build.rs":   "fn main() {\n    println!(\"cargo:rerun-if-changed=build.rs\");\n    println!(\"cargo:rerun-if-changed=v.txt\");\n    println!(\"cargo:rustc-env=G_V={}\", std::fs::read_to_string(\"v.txt\").unwrap().trim());\n}\n",
			"ext/g/v.txt":      "v1\n",
			"ext/g/src/lib.rs": "pub fn show() -> String { env!(\"G_V\").to_string() }\n",
		} {
			full := filepath.Join(s.root, p)
			os.MkdirAll(filepath.Dir(full), 0o755)
			if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	})
	log := &runLog{s: tw.grove}
	run := func(wt string) func(s *side) string {
		return func(s *side) string { return s.cargo(wt, "build") + "\n" + s.run(wt, "target/debug/app") }
	}
	tw.step("a: build", run("a"))
	log.expect(t, "a", "", "g")
	tw.step("b: build", run("b"))
	log.expect(t, "b", "g", "")
	tw.both(func(s *side) {
		s.addWorktree("c")
		os.WriteFile(filepath.Join(s.root, "ext/g/v.txt"), []byte("v2\n"), 0o644)
	})
	tw.step("c: build, declared file edited", run("c"))
	log.expect(t, "c", "", "g")
}

// A build script in another file than build.rs (typenum's `build =
// "build/main.rs"`) is compiled as crate build_script_main: its run is
// cached like build.rs's, and a user's bin whose name starts the same way
// (build_script_x, Cargo sets CARGO_BIN_NAME for it) stays the user's
// program, never a trampoline.
func TestBuildScriptNamedAfterItsFile(t *testing.T) {
	t.Parallel()
	tw := newTwin(t, map[string]string{
		"Cargo.toml":                    "[workspace]\nmembers = [\"app\", \"g\"]\nresolver = \"2\"\n",
		"g/Cargo.toml":                  "[package]\nname = \"g\"\nversion = \"0.1.0\"\nedition = \"2021\"\nbuild = \"build/main.rs\"\n",
		"g/build/main.rs":               "fn main() {\n    println!(\"cargo:rerun-if-changed=build/main.rs\");\n    println!(\"cargo:rerun-if-changed=v.txt\");\n    let v = std::fs::read_to_string(\"v.txt\").unwrap();\n    std::fs::write(std::path::Path::new(&std::env::var(\"OUT_DIR\").unwrap()).join(\"v\"), v.trim()).unwrap();\n}\n",
		"g/v.txt":                       "v1\n",
		"g/src/lib.rs":                  "pub fn show() -> &'static str { include_str!(concat!(env!(\"OUT_DIR\"), \"/v\")) }\n",
		"app/Cargo.toml":                "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\ng = { path = \"../g\" }\n",
		"app/src/main.rs":               "fn main() { println!(\"{}\", g::show()); }\n",
		"app/src/bin/build_script_x.rs": "fn main() { println!(\"the user's own program\"); }\n",
		".gitignore":                    "target/\n",
	})
	cacheRuns(tw)
	log := &runLog{s: tw.grove}
	run := func(wt string) func(s *side) string {
		return func(s *side) string {
			return s.cargo(wt, "build") + "\n" + s.run(wt, "target/debug/app") + "\n" + s.run(wt, "target/debug/build_script_x")
		}
	}
	tw.step("a: build", run("a"))
	log.expect(t, "a", "", "g")
	tw.step("b: build", run("b"))
	log.expect(t, "b", "g", "")
	tw.both(func(s *side) {
		s.addWorktree("c")
		s.write("c", map[string]string{"g/v.txt": "v2\n"})
	})
	tw.step("c: build, declared file edited", run("c"))
	log.expect(t, "c", "", "g")
}
