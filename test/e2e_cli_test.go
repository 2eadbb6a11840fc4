package e2e

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grove-rs/grove/internal/testneed"
)

// `grove config` shows each setting with its value and where it came from,
// as a build started there sees it: GROVE_* from the environment, from a
// Cargo config's [env] table (which Cargo hands the wrapper), or the
// default; and the Cargo settings grove depends on.
func TestConfigShowsSources(t *testing.T) {
	root := tinyRepo(t)
	writeFile(t, filepath.Join(root, ".cargo", "config.toml"),
		"[build]\nrustc-wrapper = \"grove\"\n\n[env]\nGROVE_DIR = { value = \"store\", relative = true }\nGROVE_EXCLUDE = \"tiny\"\n")
	cmd := exec.Command(grove, "config", "--json")
	cmd.Dir = filepath.Join(root, "src")
	cmd.Env = env("GROVE_EXCLUDE=serde", "GROVE_VERIFY=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("grove config: %v\n%s", err, out)
	}
	var got []struct{ Name, Value, Source string }
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	cfg := filepath.Join(root, ".cargo", "config.toml")
	want := map[string][2]string{
		"GROVE_DIR":           {filepath.Join(root, "store"), cfg},
		"GROVE_EXCLUDE":       {"serde", "environment"}, // [env] does not override without force
		"GROVE_VERIFY":        {"1", "environment"},
		"GROVE_LOG":           {"", "unset"},
		"build.rustc-wrapper": {"grove", cfg},
		"build.target-dir":    {filepath.Join(root, "target"), "default"},
	}
	for _, s := range got {
		if w, ok := want[s.Name]; ok {
			if s.Value != w[0] || s.Source != w[1] {
				t.Errorf("%s = %q from %q, want %q from %q", s.Name, s.Value, s.Source, w[0], w[1])
			}
			delete(want, s.Name)
		}
	}
	for n := range want {
		t.Errorf("grove config does not show %s", n)
	}
	if r := runGrove(t, root, "config", "GROVE_DIR", "build.rustc-wrapper"); r.code != 0 || r.stdout != filepath.Join(root, "store")+"\ngrove\n" {
		t.Errorf("grove config NAMES: exit %d %q %s", r.code, r.stdout, r.stderr)
	}
	if r := runGrove(t, root, "config", "NOPE"); r.code != 2 || !strings.Contains(r.stderr, "unknown setting") {
		t.Errorf("grove config NOPE: exit %d %s", r.code, r.stderr)
	}
}

// `cargo grove stats` works like any cargo subcommand, and reads the store
// the builds use, here one named in the Cargo config's [env] table.
func TestCargoGroveStats(t *testing.T) {
	if _, err := exec.LookPath("cargo"); err != nil {
		testneed.Missing(t, "cargo", err)
	}
	root := tinyRepo(t)
	writeFile(t, filepath.Join(root, ".cargo", "config.toml"), "[env]\nGROVE_DIR = { value = \"store\", relative = true }\n")
	if r := runGrove(t, root, "init"); r.code != 0 {
		t.Fatalf("grove init: %s", r.stderr)
	}
	run(t, root, "cargo", "build", "-q")
	cmd := exec.Command("cargo", "grove", "stats", "--json")
	cmd.Dir = root
	cmd.Env = env()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cargo grove stats: %v\n%s", err, out)
	}
	var st struct {
		Store  string `json:"store"`
		Misses int    `json:"misses"`
	}
	if err := json.Unmarshal(out, &st); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if st.Store != filepath.Join(root, "store") || st.Misses != 1 {
		t.Errorf("cargo grove stats: store %s, %d misses; want %s, 1\n%s", st.Store, st.Misses, filepath.Join(root, "store"), out)
	}
	if r := runGrove(t, root, "stats", "--json"); r.stdout != string(out) {
		t.Errorf("grove stats differs from cargo grove stats:\n%s\n%s", r.stdout, out)
	}
}
