package cache_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// A workspace member's build script reads an environment variable without
// declaring it (no rerun-if-env-changed). Plain cargo in a fresh worktree
// runs the script with the environment of that build; Cargo's fingerprint
// of the run holds no environment, so a run seeded from a donor built with
// another value is fresh and the donor's value is served. Seeding must
// copy a member's run only when the environment it ran with is the one a
// build in the new tree gets (key/runenv.go): the variables Cargo does not
// set, with `[env]` of the Cargo config resolved for the new tree and its
// paths normalized. Each case: the donor built with donorEnv, a fresh
// worktree with plain cargo and a seeded one with grove built with
// buildEnv (the seed runs with it too, as from one shell); the programs
// must print the same. "donor built with MODE set" fails on the code
// before the rule, which seeded the donor's run whatever its environment.
func TestSeededRunEnvTwin(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"Cargo.toml": "[workspace]\nmembers = [\"app\"]\nresolver = \"2\"\n",
		".gitignore": "target/\n",
		".cargo/config.toml": `[env]
REL = { value = "data", relative = true }
`,
		"app/Cargo.toml": `[package]
name = "app"
version = "0.1.0"
edition = "2021"
`,
		"app/build.rs": `fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let m = std::env::var("MODE").unwrap_or_else(|_| "unset".into());
    let rel = std::env::var("REL").unwrap_or_default();
    let tree = std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).parent().unwrap().to_owned();
    let rel = std::path::Path::new(&rel).strip_prefix(&tree).map(|p| p.display().to_string()).unwrap_or(rel);
    println!("cargo:rustc-env=MODE_SEEN={}", m);
    println!("cargo:rustc-env=REL_SEEN={}", rel);
}
`,
		"app/src/main.rs": "fn main() { println!(\"{} {}\", env!(\"MODE_SEEN\"), env!(\"REL_SEEN\")); }\n",
	}
	for _, tc := range []struct {
		name               string
		donorEnv, buildEnv []string
		seeds              bool // the run is seeded: the first build compiles nothing
	}{
		{name: "same environment", seeds: true},
		{name: "same value set", donorEnv: []string{"MODE=x"}, buildEnv: []string{"MODE=x"}, seeds: true},
		{name: "donor built with MODE set", donorEnv: []string{"MODE=shell"}},
		{name: "new tree built with MODE set", buildEnv: []string{"MODE=shell"}},
		{name: "another value", donorEnv: []string{"MODE=1"}, buildEnv: []string{"MODE=2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.extra = []string{"GROVE_CACHE_BUILD_SCRIPTS=1"}
			repo := newRepo(t, files)
			git(t, repo, "checkout", "-q", "--detach")
			e.extra = append(e.extra, tc.donorEnv...)
			e.cargo(repo, true, "build")
			e.extra = append([]string{"GROVE_CACHE_BUILD_SCRIPTS=1"}, tc.buildEnv...)

			plain := filepath.Join(t.TempDir(), "plain")
			git(t, repo, "worktree", "add", "-q", "--detach", plain)
			e.cargo(plain, false, "build")
			want := run(t, filepath.Join(plain, "target/debug/app"))

			seeded := filepath.Join(t.TempDir(), "seeded")
			git(t, repo, "worktree", "add", "-q", "--detach", seeded)
			cmd := exec.Command(groveBin, "seed", "--from", repo)
			cmd.Dir = seeded
			cmd.Env = append(append(os.Environ(), "GROVE_DIR="+e.store), e.extra...)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("grove seed: %v\n%s", err, out)
			}
			b := e.cargo(seeded, true, "build")
			got := run(t, filepath.Join(seeded, "target/debug/app"))
			if got != want {
				t.Errorf("seeded worktree's program prints %q, plain cargo's %q", got, want)
			}
			if tc.seeds && len(b.compiled) != 0 {
				t.Errorf("seeded first build with the donor's environment compiled %v, want nothing", b.compiled)
			}
		})
	}
}

// The same for a git dependency's run, which seeding copies without
// comparing sources (Cargo's fingerprint of it is the commit): its script
// reads MODE undeclared, the donor was built with MODE set, and plain
// cargo's fresh worktree, built without, runs it without. The seeded tree
// printed the donor's value on the code before the rule. A donor whose
// run had the same environment is still seeded from.
func TestSeededDependencyRunEnvTwin(t *testing.T) {
	t.Parallel()
	dep := filepath.Join(t.TempDir(), "gdep")
	writeTree(t, dep, map[string]string{
		"Cargo.toml": "[package]\nname = \"gdep\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
		"build.rs": `fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-env=MODE_SEEN={}", std::env::var("MODE").unwrap_or_else(|_| "unset".into()));
}
`,
		"src/lib.rs": "pub fn mode() -> &'static str { env!(\"MODE_SEEN\") }\n",
	})
	git(t, dep, "init", "-q", "-b", "main")
	git(t, dep, "add", "-A")
	git(t, dep, "commit", "-q", "-m", "init")
	tw := newTwin(t, map[string]string{
		"Cargo.toml": "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n" +
			"[dependencies]\ngdep = { git = \"file://" + dep + "\" }\n",
		".gitignore":  "/target\n",
		"src/main.rs": "fn main() { println!(\"{}\", gdep::mode()); }\n",
	})
	cacheRuns(tw)
	tw.step("a: build with MODE set", func(s *side) string { return s.cargoEnv("a", []string{"MODE=shell"}, "build") })
	tw.step("b: seed", func(s *side) string { return s.groveCLI("b", "seed") })
	tw.step("b: build", func(s *side) string { return s.cargo("b", "build") })
	tw.step("b: run", func(s *side) string { return s.run("b", "target/debug/app") })
	tw.step("a: build", func(s *side) string { return s.cargo("a", "build") })
	tw.step("c: seed", func(s *side) string { s.addWorktree("c"); return s.groveCLI("c", "seed") })
	tw.step("c: build", func(s *side) string { return s.cargo("c", "build") })
	tw.step("c: run", func(s *side) string { return s.run("c", "target/debug/app") })
}

// A worktree seeded from a worktree that was itself seeded builds nothing
// either. The markers seeding writes beside a copied run (package
// gitwatch's, key/runenv.go's) were dated when written, after the seed's
// stamps: the run looked newer than the member's binary built on it, so
// the second seed left the binary to Cargo.
func TestSeededFromSeededTree(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.extra = []string{"GROVE_CACHE_BUILD_SCRIPTS=1"}
	repo := newRepo(t, map[string]string{
		"Cargo.toml":      "[workspace]\nmembers = [\"app\"]\nresolver = \"2\"\n",
		".gitignore":      "target/\n",
		"app/Cargo.toml":  "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
		"app/build.rs":    "fn main() { println!(\"cargo:rerun-if-changed=build.rs\"); println!(\"cargo:rustc-env=V=1\"); }\n",
		"app/src/main.rs": "fn main() { println!(\"{}\", env!(\"V\")); }\n",
	})
	git(t, repo, "checkout", "-q", "--detach")
	e.cargo(repo, true, "build")
	from := repo
	for _, name := range []string{"b", "c"} {
		wt := filepath.Join(t.TempDir(), name)
		git(t, repo, "worktree", "add", "-q", "--detach", wt)
		cmd := exec.Command(groveBin, "seed", "--from", from)
		cmd.Dir = wt
		cmd.Env = append(append(os.Environ(), "GROVE_DIR="+e.store), e.extra...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("grove seed: %v\n%s", err, out)
		}
		if b := e.cargo(wt, true, "build"); len(b.compiled) != 0 {
			t.Errorf("%s, seeded from %s: first build compiled %v, want nothing", name, filepath.Base(from), b.compiled)
		}
		from = wt
	}
}

// The same class for compiled units. A proc-macro reads APP_DATA with
// std::env, declared to grove with GROVE_EXTRA_ENV (README: how to key
// such reads). The donor was built with APP_DATA=1; plain cargo's fresh
// worktree, built with APP_DATA=2, prints 2. Cargo's fingerprint holds no
// such variable, so a seed that compared only sources handed the new tree
// the donor's expansion, and it printed 1. Each compile now leaves an env
// mark beside its dep-info (key/unitenv.go: every variable grove keys
// beyond Cargo's fingerprint, by digest), and the seed copies a unit only
// when its mark matches the seeding environment. Failed before the mark.
func TestSeededUnitExtraEnvTwin(t *testing.T) {
	t.Parallel()
	tw := newTwin(t, map[string]string{
		"Cargo.toml":      "[workspace]\nmembers = [\"app\", \"pm\"]\nresolver = \"2\"\n",
		".gitignore":      "/target\n",
		"app/Cargo.toml":  "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\npm = { path = \"../pm\" }\n",
		"app/src/main.rs": "fn main() { println!(\"{}\", pm::data!()); }\n",
		"pm/Cargo.toml":   "[package]\nname = \"pm\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[lib]\nproc-macro = true\n",
		"pm/src/lib.rs": "use proc_macro::TokenStream;\n#[proc_macro]\npub fn data(_: TokenStream) -> TokenStream {\n" +
			"    let s = std::env::var(\"APP_DATA\").unwrap_or_default();\n    format!(\"{:?}\", s).parse().unwrap()\n}\n",
	})
	tw.both(func(s *side) { s.e.extra = append(s.e.extra, "GROVE_EXTRA_ENV=APP_DATA") })
	tw.step("a: build", func(s *side) string { return s.cargoEnv("a", []string{"APP_DATA=1"}, "build") })
	tw.step("b: seed", func(s *side) string { return s.groveCLI("b", "seed") })
	tw.step("b: build", func(s *side) string { return s.cargoEnv("b", []string{"APP_DATA=2"}, "build") })
	tw.step("b: run", func(s *side) string { return s.run("b", "target/debug/app") })
}
