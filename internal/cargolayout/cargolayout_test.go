package cargolayout

import (
	"context"
	"github.com/grove-rs/grove/internal/testneed"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRealBuilds builds a package with a build script on Cargo 1.95
// (legacy layout) and on the nightly with -Zbuild-dir-new-layout (Cargo
// 1.100's per-unit layout), each with the build dir inside the target dir
// and apart from it, and checks what this package says against the files
// Cargo wrote: the dirs, the profile and its layout, the units, and the
// run unit that holds a build script's output, as the dependent unit's
// OUT_DIR names it.
func TestRealBuilds(t *testing.T) {
	if _, err := exec.LookPath("cargo"); err != nil {
		testneed.Missing(t, "cargo", "cargo not on PATH")
	}
	nightly := []string{"RUSTUP_TOOLCHAIN=nightly", "CARGO_UNSTABLE_BUILD_DIR_NEW_LAYOUT=true"}
	for _, c := range []struct {
		name     string
		env      []string
		buildDir string // CARGO_BUILD_BUILD_DIR, relative to the test dir; "" for none
		layout   Layout
		output   string // the run output file, relative to the run unit's dir
	}{
		{"legacy", nil, "", Legacy, "output"},
		{"legacy-build-dir", nil, "bd/{workspace-path-hash}", Legacy, "output"},
		{"per-unit", nightly, "", PerUnit, "run/stdout"},
		{"per-unit-build-dir", nightly, "bd/{workspace-path-hash}", PerUnit, "run/stdout"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if c.env != nil && exec.Command("cargo", "+nightly", "--version").Run() != nil {
				testneed.Missing(t, "nightly", "no nightly toolchain")
			}
			dir := t.TempDir()
			files := map[string]string{
				"Cargo.toml": "[package]\nname = \"pkg\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
				"build.rs":   "fn main() { println!(\"cargo:rustc-env=FROM_BUILD=1\"); }\n",
				// The test binary prints the OUT_DIR Cargo gives the unit.
				"src/main.rs": "fn main() { println!(\"{}\", env!(\"OUT_DIR\")); }\n",
			}
			os.MkdirAll(filepath.Join(dir, "src"), 0o755)
			for p, body := range files {
				os.WriteFile(filepath.Join(dir, p), []byte(body), 0o644)
			}
			env := os.Environ()
			for _, kv := range env {
				if strings.HasPrefix(kv, "CARGO_TARGET_DIR=") || strings.HasPrefix(kv, "CARGO_BUILD_") {
					t.Skipf("%s is set", kv)
				}
			}
			env = append(env, c.env...)
			if c.buildDir != "" {
				env = append(env, "CARGO_BUILD_BUILD_DIR="+filepath.Join(dir, c.buildDir))
			}
			cmd := exec.Command("cargo", "build", "-q")
			cmd.Dir, cmd.Env = dir, env
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("cargo build: %v\n%s", err, out)
			}
			dirs, err := Resolve(context.Background(), "", dir, env)
			if err != nil {
				t.Fatal(err)
			}
			if dirs.Target != filepath.Join(dir, "target") {
				t.Errorf("target dir %s", dirs.Target)
			}
			if want := filepath.Join(dir, "bd"); c.buildDir != "" && !strings.HasPrefix(dirs.Build, want+"/") {
				t.Errorf("build dir %s, want one under %s", dirs.Build, want)
			} else if c.buildDir == "" && dirs.Build != dirs.Target {
				t.Errorf("build dir %s, want the target dir", dirs.Build)
			}
			if !IsBuildDir(dirs.Build) || !IsBuildDir(dirs.Target) {
				t.Errorf("IsBuildDir: build %v, target %v", IsBuildDir(dirs.Build), IsBuildDir(dirs.Target))
			}
			ps := Profiles(dirs.Build)
			if len(ps) != 1 || ps[0].Rel != "debug" || ps[0].Layout != c.layout || ps[0].LastBuilt().IsZero() {
				t.Fatalf("profiles %+v", ps)
			}
			units, err := Units(ps[0])
			if err != nil {
				t.Fatal(err)
			}
			// Three units: compile the build script, run it, compile main.
			var runs []Unit
			for _, u := range units {
				if u.Pkg != "pkg" || len(u.Hash) != 16 {
					t.Errorf("unit %+v", u)
				}
				if u.IsRunUnit() {
					runs = append(runs, u)
				}
			}
			if len(units) != 3 || len(runs) != 1 {
				t.Fatalf("units %+v", units)
			}
			out, err := exec.Command(filepath.Join(dirs.Target, "debug", "pkg")).Output()
			if err != nil {
				t.Fatal(err)
			}
			// The run unit's dir is the parent of the OUT_DIR Cargo passes
			// to the units that depend on it, and holds the script's stdout.
			if outDir := strings.TrimSpace(string(out)); filepath.Dir(outDir) != runs[0].Dir {
				t.Errorf("OUT_DIR %s is not in the run unit's dir %s", outDir, runs[0].Dir)
			}
			if b, _ := os.ReadFile(filepath.Join(runs[0].Dir, c.output)); !strings.Contains(string(b), "FROM_BUILD") {
				t.Errorf("build script output %q", b)
			}
			if len(LockFiles(dirs.All()...)) == 0 {
				t.Error("no lock files")
			}
		})
	}
}
