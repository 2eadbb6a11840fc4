package cache_test

import (
	"encoding/json"
	"github.com/grove-rs/grove/internal/testneed"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// layoutCase is one way Cargo lays out a build dir, as the tests run it:
// extra environment for every cargo and grove run, and files added to the
// workspace.
type layoutCase struct {
	name  string
	env   func(t *testing.T) []string
	files map[string]string
}

// nightlyNewLayout is Cargo 1.100's default layout, reached with the
// nightly toolchain here; the variable is the -Zbuild-dir-new-layout flag.
var nightlyNewLayout = []string{"RUSTUP_TOOLCHAIN=nightly", "CARGO_UNSTABLE_BUILD_DIR_NEW_LAYOUT=true"}

// layoutCases are the build-dir shapes every seeding case runs on: both
// layouts, and each with build.build-dir apart from the target dir, set in
// the committed config (relative, so per worktree) or in the environment
// as a template Cargo expands per workspace ({workspace-path-hash}).
func layoutCases() []layoutCase {
	none := func(*testing.T) []string { return nil }
	nightly := func(t *testing.T) []string {
		needNightly(t)
		return nightlyNewLayout
	}
	templ := func(base func(*testing.T) []string) func(*testing.T) []string {
		return func(t *testing.T) []string {
			return append(base(t), "CARGO_BUILD_BUILD_DIR="+filepath.Join(t.TempDir(), "build-dirs", "{workspace-path-hash}"))
		}
	}
	inConfig := map[string]string{".cargo/config.toml": "[build]\nbuild-dir = \"build-out\"\n"}
	return []layoutCase{
		{"legacy", none, nil},
		{"per-unit", nightly, nil},
		{"legacy-build-dir-config", none, inConfig},
		{"per-unit-build-dir-config", nightly, inConfig},
		{"legacy-build-dir-template", templ(none), nil},
		{"per-unit-build-dir-template", templ(nightly), nil},
	}
}

func needNightly(t *testing.T) {
	t.Helper()
	if exec.Command("cargo", "+nightly", "--version").Run() != nil {
		testneed.Missing(t, "nightly", "no nightly toolchain (rustup toolchain install nightly)")
	}
}

// seed runs `grove seed` in worktree wt on the grove side; plain cargo has
// nothing to do before a build. It returns "ok" or grove's error.
func (s *side) seed(wt string) string {
	s.t.Helper()
	if !s.grove {
		return "ok"
	}
	cmd := exec.Command(groveBin, "seed")
	cmd.Dir = s.wt(wt)
	cmd.Env = append(cleanEnv(), "GROVE_DIR="+s.e.store)
	cmd.Env = append(cmd.Env, s.e.extra...)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "seeded") {
		return "grove seed: " + strings.TrimSpace(string(out))
	}
	return "ok"
}

// Issue 10, part 1: on every layout and build-dir setting, seeding finds
// its donor, the seeded worktree's first build compiles no dependency and
// misses nothing, and its second build is a no-op.
func TestSeedLayouts(t *testing.T) {
	needRegistry(t)
	for _, lc := range layoutCases() {
		t.Run(lc.name, func(t *testing.T) {
			t.Parallel()
			files := fixture()
			files[".cargo/config.toml"] = registryConfig
			for p, c := range lc.files {
				files[p] += "\n" + c
			}
			files["alpha/Cargo.toml"] += "\n[dependencies]\ncfg-if = \"1\"\nitoa = \"1\"\n"
			files["alpha/src/lib.rs"] += "\npub fn itoa_len() -> usize { itoa::Buffer::new().format(12345).len() }\n"
			e := newEnv(t)
			e.extra = append(cleanEnv(), lc.env(t)...)
			repo := newRepo(t, files)
			e.cargo(repo, true, "build")

			wt := filepath.Join(t.TempDir(), "seeded")
			git(t, repo, "worktree", "add", "-q", "-b", "seeded", wt)
			cmd := exec.Command(groveBin, "seed")
			cmd.Dir = wt
			cmd.Env = append(e.extra, "GROVE_DIR="+e.store)
			if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "seeded") {
				t.Fatalf("grove seed: %v\n%s", err, out)
			} else if strings.Contains(string(out), " 0 dependency units") {
				t.Fatalf("grove seed copied nothing: %s", out)
			}
			b := e.cargo(wt, true, "build")
			for _, c := range b.compiled {
				if c == "cfg_if" || c == "itoa" || c == "cfg-if" {
					t.Errorf("seeded worktree rebuilt dependency %s", c)
				}
			}
			if b.count("miss") != 0 {
				t.Errorf("seeded worktree: misses %v", b.crates("miss"))
			}
			if got := run(t, filepath.Join(wt, "target/debug/app")); !strings.Contains(got, "names=AB") {
				t.Errorf("binary prints %q", got)
			}
			if b2 := e.cargo(wt, true, "build"); len(b2.compiled) != 0 {
				t.Errorf("second build after seeding compiled %v", b2.compiled)
			}
			cmd = exec.Command(groveBin, "seed")
			cmd.Dir = wt
			cmd.Env = append(e.extra, "GROVE_DIR="+e.store)
			if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "built already") {
				t.Errorf("seeding a built worktree: err %v, output %q", err, out)
			}
		})
	}
}

// Issue 7, case 23: a path dependency that is not a workspace member
// (excluded, or a member only in the donor's commit) is judged by Cargo by
// its sources' mtimes. A seed that copies the donor's fingerprint of it
// makes the older sources of the new worktree look fresh, and the new
// worktree runs the donor's code. Seeding copies only units whose sources
// cannot differ between the trees; plain cargo is the reference.
func TestSeedNeverCopiesPathPackages(t *testing.T) {
	helperDep := "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nhelper = { path = \"../vendor/helper\" }\n"
	files := map[string]string{
		"Cargo.toml":               "[workspace]\nresolver = \"2\"\nmembers = [\"app\"]\nexclude = [\"vendor/helper\"]\n",
		"app/Cargo.toml":           helperDep,
		"app/src/main.rs":          "fn main() { println!(\"{}\", helper::v()); }\n",
		"vendor/helper/Cargo.toml": "[package]\nname = \"helper\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
		"vendor/helper/src/lib.rs": "pub fn v() -> &'static str { \"original\" }\n",
	}
	variants := []struct {
		name string
		// donor changes worktree a (committed or not) before it builds.
		donor func(s *side)
	}{
		{"excluded, edited in the donor", func(s *side) {
			s.write("a", map[string]string{"vendor/helper/src/lib.rs": "pub fn v() -> &'static str { \"donor\" }\n"})
		}},
		{"a member only in the donor's commit", func(s *side) {
			s.write("a", map[string]string{
				"Cargo.toml":               "[workspace]\nresolver = \"2\"\nmembers = [\"app\", \"vendor/helper\"]\n",
				"vendor/helper/src/lib.rs": "pub fn v() -> &'static str { \"donor\" }\n",
			})
			s.git("a", "commit", "-q", "-am", "helper joins the workspace")
		}},
	}
	for _, lc := range layoutCases() {
		for _, v := range variants {
			t.Run(lc.name+"/"+v.name, func(t *testing.T) {
				t.Parallel()
				fs := map[string]string{}
				for p, c := range files {
					fs[p] = c
				}
				for p, c := range lc.files {
					fs[p] += c
				}
				tw := newTwin(t, fs)
				env := lc.env(t)
				tw.both(func(s *side) { s.e.extra = env })
				tw.both(v.donor)
				tw.step("a: cargo build", func(s *side) string { return s.cargo("a", "build") })
				tw.step("a: run", func(s *side) string { return s.run("a", "target/debug/app") })
				tw.step("b: seed", func(s *side) string { return s.seed("b") })
				tw.step("b: cargo build", func(s *side) string { return s.cargo("b", "build") })
				tw.step("b: run", func(s *side) string { return s.run("b", "target/debug/app") })
			})
		}
	}
}

// Issue 10, part 1: `grove clean` counts the stored files a target dir
// still hardlinks apart from the store-only ones, on every layout: blobs
// linked into a build dir are "shared with target dirs", and stop being so
// once the build dir is gone.
func TestCleanCountsLinkedBlobsOnLayouts(t *testing.T) {
	for _, lc := range layoutCases() {
		t.Run(lc.name, func(t *testing.T) {
			t.Parallel()
			files := fixture()
			for p, c := range lc.files {
				files[p] += "\n" + c
			}
			e := newEnv(t)
			e.extra = append(cleanEnv(), lc.env(t)...)
			repo := newRepo(t, files)
			e.cargo(repo, true, "build")
			clean := func() (inTrees, kept int64) {
				cmd := exec.Command(groveBin, "clean", "--max-size", "1TiB", "--dry-run", "--json")
				cmd.Env = append(e.extra, "GROVE_DIR="+e.store)
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("grove clean: %v", err)
				}
				var res struct {
					InTrees int64 `json:"bytes_in_use"`
					Kept    int64 `json:"bytes_kept"`
				}
				if err := json.Unmarshal(out, &res); err != nil {
					t.Fatal(err)
				}
				return res.InTrees, res.Kept
			}
			if inTrees, _ := clean(); inTrees == 0 {
				t.Errorf("no stored file counted as linked by the built worktree")
			}
			// Remove every dir Cargo wrote for this workspace.
			cmd := exec.Command("cargo", "metadata", "--format-version", "1", "--no-deps", "--offline")
			cmd.Dir, cmd.Env = repo, e.extra
			out, err := cmd.Output()
			if err != nil {
				t.Fatal(err)
			}
			var md struct{ Target, Build string }
			var raw map[string]any
			json.Unmarshal(out, &raw)
			md.Target, _ = raw["target_directory"].(string)
			md.Build, _ = raw["build_directory"].(string)
			os.RemoveAll(md.Target)
			os.RemoveAll(md.Build)
			if inTrees, kept := clean(); inTrees != 0 || kept == 0 {
				t.Errorf("after removing the build dirs: %d bytes still counted as linked, %d store-only", inTrees, kept)
			}
		})
	}
}
