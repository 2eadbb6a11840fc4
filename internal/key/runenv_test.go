package key

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRunEnvIgnored(t *testing.T) {
	for name, want := range map[string]bool{
		"MODE": false, "PATH": false, "HOME": false, "RUSTFLAGS": false, "CC": false,
		"CARGO_PKG_NAME": true, "CARGO_FEATURE_X": true, "CARGO": true, "__CARGO_FIX_PLZ": true,
		"DEP_Z_INCLUDE": true, "OUT_DIR": true, "TARGET": true, "RUSTC_WRAPPER": true,
		"RUSTUP_TOOLCHAIN": true, "LD_LIBRARY_PATH": true, "PWD": true, "OLDPWD": true,
		"GIT_EXEC_PATH": true, "GROVE_DIR": true, "MAKEFLAGS": true,
	} {
		if got := RunEnvIgnored(name); got != want {
			t.Errorf("RunEnvIgnored(%q) = %v, want %v", name, got, want)
		}
	}
}

// A run's mark matches a new tree only with the same ambient variables,
// by value with each tree's path normalized, and only while it is the
// mark of the run Cargo last started.
func TestRunEnvMatches(t *testing.T) {
	root := t.TempDir()
	donor, here := filepath.Join(root, "donor"), filepath.Join(root, "here")
	unit := filepath.Join(donor, "target/debug/build/app-1")
	for _, d := range []string{filepath.Join(donor, ".git"), filepath.Join(here, ".git"), filepath.Join(unit, "out")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	stamp := filepath.Join(unit, "invoked.timestamp")
	if err := os.WriteFile(stamp, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	MarkRunEnv([]string{
		"OUT_DIR=" + filepath.Join(unit, "out"), "CARGO_MANIFEST_DIR=" + filepath.Join(donor, "app"),
		"CARGO_PKG_NAME=app", "MODE=x", "REL=" + filepath.Join(donor, "data"), "PWD=" + donor,
	})
	for _, tc := range []struct {
		name string
		env  map[string]string
		want bool
	}{
		{"same", map[string]string{"MODE": "x", "REL": filepath.Join(here, "data")}, true},
		{"cargo's own differ", map[string]string{"MODE": "x", "REL": filepath.Join(here, "data"), "CARGO_PKG_NAME": "b", "PWD": "/"}, true},
		{"other value", map[string]string{"MODE": "y", "REL": filepath.Join(here, "data")}, false},
		{"unset here", map[string]string{"REL": filepath.Join(here, "data")}, false},
		{"set only here", map[string]string{"MODE": "x", "REL": filepath.Join(here, "data"), "NEW": "1"}, false},
		{"the donor's path", map[string]string{"MODE": "x", "REL": filepath.Join(donor, "data")}, false},
	} {
		var names []string
		for k := range tc.env {
			names = append(names, k)
		}
		lookup := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
		if got := RunEnvMatches(unit, here, names, lookup); got != tc.want {
			t.Errorf("%s: RunEnvMatches = %v, want %v", tc.name, got, tc.want)
		}
	}
	// A later run the trampoline did not start re-dates the stamp.
	later := filepath.Join(unit, "invoked.timestamp")
	fi, _ := os.Stat(later)
	if err := os.Chtimes(later, fi.ModTime().Add(1e9), fi.ModTime().Add(1e9)); err != nil {
		t.Fatal(err)
	}
	same := map[string]string{"MODE": "x", "REL": filepath.Join(here, "data")}
	if RunEnvMatches(unit, here, []string{"MODE", "REL"}, func(k string) (string, bool) { v, ok := same[k]; return v, ok }) {
		t.Error("a stale mark matches")
	}
}

func TestSeedEnvironDropsGitExecPath(t *testing.T) {
	got := SeedEnviron([]string{"GIT_EXEC_PATH=/usr/lib/git-core", "PATH=/usr/lib/git-core:/usr/bin", "A=1"})
	want := []string{"GIT_EXEC_PATH=/usr/lib/git-core", "PATH=/usr/bin", "A=1"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("SeedEnviron = %q, want %q", got, want)
		}
	}
}

// Cargo's per-unit layout keeps invoked.timestamp in run/ of the unit dir.
func TestRunEnvMarkPerUnitLayout(t *testing.T) {
	root := t.TempDir()
	tree := filepath.Join(root, "tree")
	unit := filepath.Join(tree, "target/debug/build/dep/0123abcd")
	for _, d := range []string{filepath.Join(tree, ".git"), filepath.Join(unit, "out"), filepath.Join(unit, "run")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(unit, "run", "invoked.timestamp"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	MarkRunEnv([]string{"OUT_DIR=" + filepath.Join(unit, "out"), "CARGO_MANIFEST_DIR=/usr/share/cargo/registry/dep-1.0.0", "MODE=x"})
	lookup := func(k string) (string, bool) {
		if k == "MODE" {
			return "x", true
		}
		return "", false
	}
	if !RunEnvMatches(unit, tree, []string{"MODE"}, lookup) {
		t.Error("the per-unit layout's mark does not match the same environment")
	}
}
