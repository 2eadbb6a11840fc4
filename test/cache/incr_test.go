package cache_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// With GROVE_WARM_INCREMENTAL=1, a workspace member restored from the store
// gets this tree's incremental state in the background, so the first edit
// after the restore reuses rustc's work as it does with plain cargo: the
// rebuilt program gives plain cargo's output, and the compile reused most
// of the crate's codegen units (object files rustc carried over from the
// previous session keep that session's mtime; timing is not the signal).
func TestFirstEditAfterRestoreIsIncremental(t *testing.T) {
	t.Parallel()
	mod := func(n, k int) string {
		var b strings.Builder
		for i := 0; i < 4; i++ {
			fmt.Fprintf(&b, "pub fn f%d(x: u64) -> u64 { (0..x).map(|i| i * %d + %d).sum() }\n", i, k, i)
		}
		return b.String()
	}
	tw := newTwin(t, map[string]string{
		"Cargo.toml":      "[workspace]\nresolver = \"2\"\nmembers = [\"core\", \"app\"]\n",
		"core/Cargo.toml": "[package]\nname = \"core2\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
		"core/src/lib.rs": "pub mod m1;\npub mod m2;\npub mod m3;\npub mod m4;\n",
		"core/src/m1.rs":  mod(1, 3),
		"core/src/m2.rs":  mod(2, 5),
		"core/src/m3.rs":  mod(3, 7),
		"core/src/m4.rs":  mod(4, 9),
		"app/Cargo.toml":  "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\ncore2 = { path = \"../core\" }\n",
		"app/src/main.rs": "fn main() { println!(\"{}\", core2::m1::f0(10) + core2::m4::f3(10)); }\n",
	})
	warm := []string{"GROVE_WARM_INCREMENTAL=1"}
	for _, wt := range []string{"a", "b"} {
		tw.step(wt+": build", func(s *side) string {
			return s.cargoEnv(wt, warm, "build") + "\n" + s.run(wt, "target/debug/app")
		})
	}
	tw.both(func(s *side) { waitWarm(t, s.wt("b")) })
	// The background compile left what Cargo sees as it was.
	tw.step("b: build again", func(s *side) string { return compiledUnits(s, "b") })
	tw.step("a: build after b", func(s *side) string { return compiledUnits(s, "a") })
	tw.both(func(s *side) { s.write("b", map[string]string{"core/src/m1.rs": mod(1, 11)}) })
	tw.step("b: first edit after the restore", func(s *side) string {
		start := time.Now()
		out := s.cargoEnv("b", warm, "build") + "\n" + s.run("b", "target/debug/app")
		reused, total := reusedObjects(t, s.wt("b"), "core2", start)
		t.Logf("%s: core2 reused %d of %d object files", s.name, reused, total)
		return fmt.Sprintf("%s\nmost codegen units reused, not all: %v", out, reused*2 > total && reused < total)
	})
}

// waitWarm waits for the background compiles grove has pending in wt's
// target dir (they run once the build that started them has ended).
func waitWarm(t *testing.T, wt string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Minute)
	for {
		pending, _ := filepath.Glob(filepath.Join(wt, "target/debug/incremental/.grove-warm-*.pending"))
		if len(pending) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("background compiles still pending: %v", pending)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// reusedObjects counts the object files in crate's newest finished
// incremental session of wt, and those older than since: rustc hardlinks
// the previous session's files into a new session and writes only the
// codegen units it compiles again.
func reusedObjects(t *testing.T, wt, crate string, since time.Time) (reused, total int) {
	t.Helper()
	sessions, _ := filepath.Glob(filepath.Join(wt, "target/debug/incremental", crate+"-*", "s-*"))
	var newest string
	var newestT time.Time
	for _, s := range sessions {
		fi, err := os.Stat(s)
		if err != nil || !fi.IsDir() || strings.HasSuffix(s, "-working") {
			continue
		}
		if fi.ModTime().After(newestT) {
			newest, newestT = s, fi.ModTime()
		}
	}
	objs, _ := filepath.Glob(filepath.Join(newest, "*.o"))
	for _, o := range objs {
		fi, err := os.Stat(o)
		if err != nil {
			t.Fatal(err)
		}
		total++
		if fi.ModTime().Before(since) {
			reused++
		}
	}
	return reused, total
}

// A build started while grove's background compile runs goes first: the
// background compile stops (rustc and its linker), puts back the outputs
// Cargo saw, and yields Cargo's lock, so the build waits a moment, not a
// whole compile; it gives plain cargo's result, and what it compiled is
// what it would have compiled with no background compile at all. The
// incremental dir is rustc's to lock: the stopped session is left for
// rustc to clean up, and the next edit is incremental.
func TestBuildDuringWarmGoesFirst(t *testing.T) {
	t.Parallel()
	// Big enough that the background compile is still running when the
	// build starts (seconds, not milliseconds).
	mod := func(k int) string {
		var b strings.Builder
		for i := 0; i < 150; i++ {
			fmt.Fprintf(&b, "pub fn f%d(x: u64) -> Vec<String> { (0..x).map(|i| format!(\"{}-{}\", i * %d, %d)).collect() }\n", i, k, i)
		}
		return b.String()
	}
	tw := newTwin(t, map[string]string{
		"Cargo.toml":      "[workspace]\nresolver = \"2\"\nmembers = [\"core\", \"app\"]\n",
		"core/Cargo.toml": "[package]\nname = \"core2\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
		"core/src/lib.rs": "pub mod m1;\npub mod m2;\npub mod m3;\n",
		"core/src/m1.rs":  mod(3),
		"core/src/m2.rs":  mod(5),
		"core/src/m3.rs":  mod(7),
		"app/Cargo.toml":  "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\ncore2 = { path = \"../core\" }\n",
		"app/src/main.rs": "fn main() { println!(\"{:?}\", core2::m1::f0(3)); }\n",
	})
	log := filepath.Join(t.TempDir(), "grove.log")
	warm := []string{"GROVE_WARM_INCREMENTAL=1", "GROVE_LOG=" + log}
	for _, wt := range []string{"a", "b"} {
		tw.step(wt+": build", func(s *side) string {
			return s.cargoEnv(wt, warm, "build") + "\n" + s.run(wt, "target/debug/app")
		})
	}
	// Wait for a background compile of b to be running: its outputs are
	// kept aside meanwhile.
	incrDir := filepath.Join(tw.grove.wt("b"), "target/debug/incremental")
	deadline := time.Now().Add(10 * time.Minute)
	for {
		if running, _ := filepath.Glob(filepath.Join(incrDir, ".grove-warm-*.saved")); len(running) > 0 {
			break
		}
		if pending, _ := filepath.Glob(filepath.Join(incrDir, ".grove-warm-*.pending")); len(pending) == 0 {
			t.Fatal("the background compiles ended before one was seen running")
		}
		if time.Now().After(deadline) {
			t.Fatal("no background compile started")
		}
		time.Sleep(5 * time.Millisecond)
	}
	tw.both(func(s *side) { s.write("b", map[string]string{"core/src/m1.rs": mod(11)}) })
	tw.step("b: edit while the background compile runs", func(s *side) string {
		return s.cargoEnv("b", warm, "build") + "\n" + s.run("b", "target/debug/app")
	})
	b, _ := os.ReadFile(log)
	if !strings.Contains(string(b), "a build is waiting; it goes first") {
		t.Errorf("the background compile did not give way to the build; log:\n%s", b)
	}
	tw.both(func(s *side) { waitWarm(t, s.wt("b")) })
	tw.step("b: build again", func(s *side) string { return compiledUnits(s, "b") })
	if left, _ := filepath.Glob(filepath.Join(tw.grove.wt("b"), "target/debug/deps/*.rcgu.o")); len(left) > 0 {
		t.Errorf("a stopped compile left object files: %v", left)
	}
	tw.both(func(s *side) { s.write("b", map[string]string{"core/src/m2.rs": mod(13)}) })
	tw.step("b: next edit", func(s *side) string {
		start := time.Now()
		out := s.cargoEnv("b", warm, "build") + "\n" + s.run("b", "target/debug/app")
		reused, total := reusedObjects(t, s.wt("b"), "core2", start)
		return fmt.Sprintf("%s\nsome codegen units reused: %v", out, reused > 0 && total > 0)
	})
}

// A seeded worktree's first build compiles nothing, so no build gives its
// members incremental state: grove seed warms them in the background (the
// donor's recorded compile, pointed at the new worktree), and the first
// edit reuses rustc's work, as plain cargo's does in a tree it built. The
// program gives plain cargo's output, and the build before the edit is
// still a no-op (the background compile left what Cargo sees as it was).
// core2 expands a proc-macro that reads CARGO_MANIFEST_DIR, which the
// background compile must be given as Cargo gives it (incr.CargoEnv).
// Fails on the code before seeds warmed: the edit compiled core2 from
// scratch, no object file reused.
func TestFirstEditAfterSeedIsIncremental(t *testing.T) {
	t.Parallel()
	mod := func(n, k int) string {
		var b strings.Builder
		for i := 0; i < 4; i++ {
			fmt.Fprintf(&b, "pub fn f%d(x: u64) -> u64 { (0..x).map(|i| i * %d + %d).sum() }\n", i, k, i+n)
		}
		return b.String()
	}
	e := newEnv(t)
	e.extra = append(e.extra, "GROVE_WARM_INCREMENTAL=1")
	repo := newRepo(t, map[string]string{
		"Cargo.toml":      "[workspace]\nresolver = \"2\"\nmembers = [\"core\", \"app\", \"gen\"]\n",
		"core/Cargo.toml": "[package]\nname = \"core2\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\ngen = { path = \"../gen\" }\n",
		"core/src/lib.rs": "pub mod m1;\npub mod m2;\npub mod m3;\npub mod m4;\ngen::manifest_const!();\n",
		"core/n.txt":      "7\n",
		// A proc-macro that finds its input by CARGO_MANIFEST_DIR, as
		// pest_derive finds a grammar: rustc does not know it reads it.
		"gen/Cargo.toml": "[package]\nname = \"gen\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[lib]\nproc-macro = true\n",
		"gen/src/lib.rs": `use proc_macro::TokenStream;
#[proc_macro]
pub fn manifest_const(_: TokenStream) -> TokenStream {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
    let n = std::fs::read_to_string(std::path::Path::new(&dir).join("n.txt")).expect("n.txt");
    format!("pub const N: u64 = {};", n.trim()).parse().unwrap()
}
`,
		"core/src/m1.rs":  mod(1, 3),
		"core/src/m2.rs":  mod(2, 5),
		"core/src/m3.rs":  mod(3, 7),
		"core/src/m4.rs":  mod(4, 9),
		"app/Cargo.toml":  "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\ncore2 = { path = \"../core\" }\n",
		"app/src/main.rs": "fn main() { println!(\"{}\", core2::m1::f0(10) + core2::m4::f3(10) + core2::N); }\n",
		".gitignore":      "target/\n",
	})
	git(t, repo, "checkout", "-q", "--detach")
	e.cargo(repo, true, "build")

	wt := filepath.Join(t.TempDir(), "b")
	git(t, repo, "worktree", "add", "-q", "--detach", wt)
	cmd := exec.Command(groveBin, "seed", "--from", repo)
	cmd.Dir = wt
	cmd.Env = append(os.Environ(), "GROVE_DIR="+e.store, "GROVE_WARM_INCREMENTAL=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("grove seed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "incremental state in the background") {
		t.Fatalf("grove seed warmed nothing:\n%s", out)
	}
	waitWarm(t, wt)
	if b := e.cargo(wt, true, "build"); len(b.compiled) != 0 {
		t.Fatalf("after the background compiles, the seeded tree's build compiled %v", b.compiled)
	}

	edit := func(dir string) {
		if err := os.WriteFile(filepath.Join(dir, "core/src/m1.rs"), []byte(mod(1, 11)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	edit(wt)
	start := time.Now()
	e.cargo(wt, true, "build")
	got := run(t, filepath.Join(wt, "target/debug/app"))
	reused, total := reusedObjects(t, wt, "core2", start)
	t.Logf("core2 reused %d of %d object files", reused, total)
	if !(reused*2 > total && reused < total) {
		t.Errorf("first edit after the seed: core2 reused %d of %d object files, want most but not all", reused, total)
	}

	plain := filepath.Join(t.TempDir(), "c")
	git(t, repo, "worktree", "add", "-q", "--detach", plain)
	edit(plain)
	e.cargo(plain, false, "build")
	if want := run(t, filepath.Join(plain, "target/debug/app")); got != want {
		t.Errorf("seeded tree after the edit printed %q, plain cargo %q", got, want)
	}
}
