package cargoconfig

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grove-rs/grove/internal/testneed"
)

// layout writes files (path -> content) under root.
func layout(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const pkg = "[package]\nname = \"p\"\nversion = \"0.1.0\"\nedition = \"2021\"\n"

func TestTargetDir(t *testing.T) {
	tests := []struct {
		name   string
		files  map[string]string
		env    map[string]string
		cwd    string // relative to root
		want   string // relative to root unless absolute
		source string // relative to root, or a Source* constant
	}{
		{
			name:  "default package",
			files: map[string]string{"ws/Cargo.toml": pkg, "ws/src/lib.rs": ""},
			cwd:   "ws", want: "ws/target", source: SourceDefault,
		},
		{
			name: "default workspace from member dir",
			files: map[string]string{
				"ws/Cargo.toml":          "[workspace]\nmembers = [\"crates/*\"]\n",
				"ws/crates/a/Cargo.toml": pkg, "ws/crates/a/src/lib.rs": "",
			},
			cwd: "ws/crates/a/src", want: "ws/target", source: SourceDefault,
		},
		{
			name: "package outside parent's members is its own root",
			files: map[string]string{
				"ws/Cargo.toml":       "[workspace]\nmembers = [\"crates/*\"]\nexclude = [\"other\"]\n",
				"ws/other/Cargo.toml": pkg, "ws/other/src/lib.rs": "",
				"ws/crates/a/Cargo.toml": pkg, "ws/crates/a/src/lib.rs": "",
			},
			cwd: "ws/other", want: "ws/other/target", source: SourceDefault,
		},
		{
			name: "relative config value is relative to the dir holding .cargo, not cwd",
			files: map[string]string{
				"repo/.cargo/config.toml": "[build]\ntarget-dir = \"rel\"\n",
				"repo/wt/a/Cargo.toml":    pkg, "repo/wt/a/src/lib.rs": "",
			},
			cwd: "repo/wt/a", want: "repo/rel", source: "repo/.cargo/config.toml",
		},
		{
			name: "closest config wins",
			files: map[string]string{
				"repo/.cargo/config.toml":      "[build]\ntarget-dir = \"/outer\"\n",
				"repo/wt/a/.cargo/config.toml": "build.target-dir = \"inner\"\n",
				"repo/wt/a/Cargo.toml":         pkg, "repo/wt/a/src/lib.rs": "",
			},
			cwd: "repo/wt/a", want: "repo/wt/a/inner", source: "repo/wt/a/.cargo/config.toml",
		},
		{
			name: "closer config without the key falls through",
			files: map[string]string{
				"repo/.cargo/config.toml":      "[build]\ntarget-dir = \"/abs/shared\"\n",
				"repo/wt/a/.cargo/config.toml": "[net]\noffline = true\n",
				"repo/wt/a/Cargo.toml":         pkg, "repo/wt/a/src/lib.rs": "",
			},
			cwd: "repo/wt/a", want: "/abs/shared", source: "repo/.cargo/config.toml",
		},
		{
			name: "config without extension wins over config.toml in one dir",
			files: map[string]string{
				"ws/.cargo/config":      "[build]\ntarget-dir = \"B\"\n",
				"ws/.cargo/config.toml": "[build]\ntarget-dir = \"A\"\n",
				"ws/Cargo.toml":         pkg, "ws/src/lib.rs": "",
			},
			cwd: "ws", want: "ws/B", source: "ws/.cargo/config",
		},
		{
			name: "CARGO_HOME config, relative to its parent",
			files: map[string]string{
				"home/config.toml": "[build]\ntarget-dir = \"H\"\n",
				"ws/Cargo.toml":    pkg, "ws/src/lib.rs": "",
			},
			env: map[string]string{"CARGO_HOME": "home"},
			cwd: "ws", want: "H", source: "home/config.toml",
		},
		{
			name: "project config beats CARGO_HOME",
			files: map[string]string{
				"home/config.toml":      "[build]\ntarget-dir = \"H\"\n",
				"ws/.cargo/config.toml": "[build]\ntarget-dir = \"P\"\n",
				"ws/Cargo.toml":         pkg, "ws/src/lib.rs": "",
			},
			env: map[string]string{"CARGO_HOME": "home"},
			cwd: "ws", want: "ws/P", source: "ws/.cargo/config.toml",
		},
		{
			name: "CARGO_BUILD_TARGET_DIR beats config, relative to cwd",
			files: map[string]string{
				"ws/.cargo/config.toml": "[build]\ntarget-dir = \"P\"\n",
				"ws/Cargo.toml":         pkg, "ws/src/lib.rs": "",
			},
			env: map[string]string{"CARGO_BUILD_TARGET_DIR": "E"},
			cwd: "ws/src", want: "ws/src/E", source: SourceEnvBuildTargetDir,
		},
		{
			name: "CARGO_TARGET_DIR beats everything",
			files: map[string]string{
				"ws/.cargo/config.toml": "[build]\ntarget-dir = \"P\"\n",
				"ws/Cargo.toml":         pkg, "ws/src/lib.rs": "",
			},
			env: map[string]string{"CARGO_BUILD_TARGET_DIR": "E", "CARGO_TARGET_DIR": "/ct"},
			cwd: "ws", want: "/ct", source: SourceEnvTargetDir,
		},
	}
	_, cargoErr := exec.LookPath("cargo")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, _ := filepath.EvalSymlinks(t.TempDir())
			layout(t, root, tt.files)
			env := map[string]string{"HOME": filepath.Join(root, "nohome"), "CARGO_HOME": filepath.Join(root, "nohome")}
			for k, v := range tt.env {
				if k == "CARGO_HOME" {
					v = filepath.Join(root, v)
				}
				env[k] = v
			}
			abs := func(p string) string {
				if filepath.IsAbs(p) || p == SourceDefault || strings.HasPrefix(p, "CARGO_") {
					return p
				}
				return filepath.Join(root, p)
			}
			cwd := filepath.Join(root, tt.cwd)
			got, src, err := TargetDir(cwd, func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			if got != abs(tt.want) || src != abs(tt.source) {
				t.Fatalf("got %s (%s), want %s (%s)", got, src, abs(tt.want), abs(tt.source))
			}
			if cargoErr != nil {
				testneed.Missing(t, "cargo", "no cross-check with Cargo: "+cargoErr.Error())
			}
			// Cross-check with Cargo itself.
			cmd := exec.Command("cargo", "metadata", "--no-deps", "--format-version", "1", "--offline")
			cmd.Dir = cwd
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, "CARGO_") {
					cmd.Env = append(cmd.Env, kv)
				}
			}
			for k, v := range env {
				if k != "HOME" {
					cmd.Env = append(cmd.Env, k+"="+v)
				}
			}
			// Cargo (through rustup) needs only PATH and RUSTUP_HOME/HOME
			// from the real environment; its config home is redirected.
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("cargo metadata: %v", err)
			}
			var md struct {
				TargetDirectory string `json:"target_directory"`
			}
			if err := json.Unmarshal(out, &md); err != nil {
				t.Fatal(err)
			}
			if md.TargetDirectory != got {
				t.Fatalf("cargo says %s, we say %s", md.TargetDirectory, got)
			}
		})
	}
}

func TestTargetDirErrors(t *testing.T) {
	root, _ := filepath.EvalSymlinks(t.TempDir())
	env := func(k string) string {
		if k == "HOME" {
			return filepath.Join(root, "nohome")
		}
		return ""
	}
	if _, _, err := TargetDir(root, env); !errors.Is(err, ErrNoManifest) {
		t.Fatalf("no manifest: %v", err)
	}
	layout(t, root, map[string]string{"Cargo.toml": pkg, ".cargo/config.toml": "[build\n"})
	var me *MalformedError
	if _, _, err := TargetDir(root, env); !errors.As(err, &me) {
		t.Fatalf("malformed: %v", err)
	}
}

func TestLookup(t *testing.T) {
	root, _ := filepath.EvalSymlinks(t.TempDir())
	layout(t, root, map[string]string{
		"home/config.toml":        "[build]\nrustc-wrapper = \"from-home\"\n",
		"repo/.cargo/config.toml": "build.rustc-wrapper = \"grove\"\n",
		"repo/sub/.cargo/config":  "[net]\noffline = true\n",
	})
	env := map[string]string{"CARGO_HOME": filepath.Join(root, "home")}
	get := func(k string) string { return env[k] }
	tests := []struct {
		dir, want, src string
		found          bool
	}{
		{"repo/sub", "grove", "repo/.cargo/config.toml", true},
		{".", "from-home", "home/config.toml", true},
	}
	for _, tt := range tests {
		v, src, found, err := Lookup(filepath.Join(root, tt.dir), get, "build", "rustc-wrapper")
		if err != nil || v != tt.want || src != filepath.Join(root, tt.src) || found != tt.found {
			t.Errorf("%s: %q %q %v %v", tt.dir, v, src, found, err)
		}
	}
	env["CARGO_BUILD_RUSTC_WRAPPER"] = "env"
	if v, src, _, _ := Lookup(filepath.Join(root, "repo"), get, "build", "rustc-wrapper"); v != "env" || src != "CARGO_BUILD_RUSTC_WRAPPER" {
		t.Errorf("env: %q %q", v, src)
	}
	delete(env, "CARGO_BUILD_RUSTC_WRAPPER")
	delete(env, "CARGO_HOME")
	if _, _, found, err := Lookup(root, get, "build", "rustc-wrapper"); found || err != nil {
		t.Errorf("nothing: %v %v", found, err)
	}
}
