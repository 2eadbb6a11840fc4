package setup

import (
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grove-rs/grove/internal/testneed"
)

// cleanEnv is the environment for cargo and git subprocesses: no variable
// that would redirect builds, and a fixed git identity.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR", "RUSTC_WRAPPER", "CARGO_BUILD_RUSTC_WRAPPER",
			"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE":
			continue
		}
		out = append(out, kv)
	}
	return append(out, "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
}

// testEnv is the Env handed to the package: the process's, minus the
// overrides, with CARGO_HOME pointing at an empty dir of the test.
func testEnv(t *testing.T) func(string) string {
	home := filepath.Join(t.TempDir(), "cargo-home")
	return func(k string) string {
		switch k {
		case "CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR", "RUSTC_WRAPPER", "CARGO_BUILD_RUSTC_WRAPPER":
			return ""
		case "CARGO_HOME":
			return home
		}
		return os.Getenv(k)
	}
}

func run(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = cleanEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return string(out)
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func needCargo(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("cargo"); err != nil {
		testneed.Missing(t, "cargo", err)
	}
}

// tinyRepo makes a git repository holding a one-crate Cargo package with
// no dependencies, committed on main, and returns its root.
func tinyRepo(t *testing.T) (base, root string) {
	t.Helper()
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	root = filepath.Join(base, "repo")
	writeFile(t, filepath.Join(root, "Cargo.toml"), "[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2021\"\n")
	writeFile(t, filepath.Join(root, "src", "main.rs"), "fn main() { println!(\"hi\"); }\n")
	writeFile(t, filepath.Join(root, ".gitignore"), "/target\n")
	run(t, root, "git", "init", "-q", "-b", "main")
	run(t, root, "git", "add", "-A")
	run(t, root, "git", "commit", "-q", "-m", "init")
	return base, root
}

func addWorktree(t *testing.T, root, path string) {
	t.Helper()
	run(t, root, "git", "worktree", "add", "-q", "-b", "wt-"+filepath.Base(path), path, "main")
}

func cargoBuild(t *testing.T, dir string) {
	t.Helper()
	run(t, dir, "cargo", "build", "-q", "--offline")
}

// snapshot returns every regular file under dir with its bytes (.git
// objects and logs excluded), to prove a failed command changed nothing.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "objects" || d.Name() == "logs" || d.Name() == "target") {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() && d.Name() != "index" {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[p] = string(b)
		} else if d.IsDir() {
			out[p+"/"] = ""
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameSnapshot(t *testing.T, before, after map[string]string) {
	t.Helper()
	for p, b := range before {
		if a, ok := after[p]; !ok {
			t.Errorf("%s disappeared", p)
		} else if a != b {
			t.Errorf("%s changed:\n%q\n->\n%q", p, b, a)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("%s appeared", p)
		}
	}
}

func open(t *testing.T, dir string) *Repo {
	t.Helper()
	r, err := Open(context.Background(), dir, testEnv(t))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func runQuiet(dir string, args ...string) (string, error) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}
