package cache_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// change is one input change: apply it to a worktree (and/or the build's
// environment and arguments) and name the crates that must then miss.
type change struct {
	name  string
	apply func(t *testing.T, dir string)
	env   []string // extra environment of the changed build
	args  []string // extra cargo arguments of the changed build
	miss  []string // crates (rustc --crate-name) that must be compiled
	want  string   // substring the changed binary prints
}

// TestInputChangesBothWays is the core correctness check: for each input,
// (1) an unchanged rebuild in a clean target dir is served entirely from
// the store, and prints the same; (2) the changed input misses for exactly
// the crates that read it, and the result matches plain cargo; (3) going
// back hits again and prints the original.
func TestInputChangesBothWays(t *testing.T) {
	changes := []change{
		{name: "source edit", apply: func(t *testing.T, d string) {
			edit(t, filepath.Join(d, "alpha/src/a.rs"), "pub const NAME: &str = \"X\";\n")
		}, miss: []string{"alpha", "beta", "app"}, want: "names=XB"},
		{name: "swapped modules", apply: func(t *testing.T, d string) {
			edit(t, filepath.Join(d, "alpha/src/a.rs"), "pub const NAME: &str = \"B\";\n")
			edit(t, filepath.Join(d, "alpha/src/b.rs"), "pub const NAME: &str = \"A\";\n")
		}, miss: []string{"alpha"}, want: "names=BA"},
		{name: "include_str file", apply: func(t *testing.T, d string) {
			edit(t, filepath.Join(d, "alpha/data.txt"), "data-2\n")
		}, miss: []string{"alpha"}, want: "data=data-2"},
		{name: "option_env variable", env: []string{"GROVE_T_ENV=set-2"}, miss: []string{"alpha"}, want: "env=set-2"},
		{name: "feature", args: []string{"--features", "alpha/loud"}, miss: []string{"alpha"}, want: "loud=true"},
		{name: "RUSTFLAGS cfg", env: []string{"RUSTFLAGS=--cfg grove_t_cfg"}, miss: []string{"alpha", "beta", "app"}, want: "cfg=true"},
		{name: "release profile", args: []string{"--release"}, miss: []string{"alpha", "beta", "app"}, want: "debug=false"},
		{name: "opt-level", env: []string{"CARGO_PROFILE_DEV_OPT_LEVEL=1"}, miss: []string{"alpha", "beta", "app"}, want: "debug=true"},
		{name: "build script output", apply: func(t *testing.T, d string) {
			edit(t, filepath.Join(d, "beta/gen-input.txt"), "gen-2\n")
		}, miss: []string{"beta", "app"}, want: "gen=gen-2"},
		{name: "static C library two levels down", apply: func(t *testing.T, d string) {
			edit(t, filepath.Join(d, "alpha/csrc/f.c"), "int grove_native(int x) { return x * 1000; }\n")
		}, miss: []string{"alpha", "app"}, want: "native=2000"},
	}
	for _, c := range changes {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			checkBothWays(t, c)
		})
	}
}

func checkBothWays(t *testing.T, c change) {
	e := newEnv(t)
	repo := newRepo(t, fixture())
	profile := "debug"
	if slices.Contains(c.args, "--release") {
		profile = "release"
	}
	app := filepath.Join(repo, "target", profile, "app")
	buildArgs := append([]string{"build"}, c.args...)

	// Prime the store with the original state, in the build's own profile.
	e.cargo(repo, true, "build")
	orig := run(t, filepath.Join(repo, "target", "debug", "app"))

	// (1) Unchanged inputs: a clean target dir is served from the store.
	os.RemoveAll(filepath.Join(repo, "target"))
	b := e.cargo(repo, true, "build")
	if b.count("miss") != 0 || b.count("hit") == 0 {
		t.Fatalf("unchanged rebuild: hits %v, misses %v; want only hits", b.crates("hit"), b.crates("miss"))
	}
	if got := run(t, filepath.Join(repo, "target", "debug", "app")); got != orig {
		t.Fatalf("restored binary prints %q, want %q", got, orig)
	}

	// (2) Changed input: the named crates miss and the result is plain cargo's.
	if c.apply != nil {
		c.apply(t, repo)
	}
	e.extra = c.env
	b = e.cargo(repo, true, buildArgs...)
	for _, crate := range c.miss {
		if !slices.Contains(b.crates("miss"), crate) {
			t.Errorf("after %s: %s was not compiled (hits %v, misses %v)", c.name, crate, b.crates("hit"), b.crates("miss"))
		}
	}
	got := run(t, app)
	if !strings.Contains(got, c.want) {
		t.Errorf("after %s: binary prints %q, want it to contain %q", c.name, got, c.want)
	}
	plainTarget := filepath.Join(t.TempDir(), "plain")
	plain := newEnv(t)
	plain.extra = append(append([]string{}, c.env...), "CARGO_TARGET_DIR="+plainTarget)
	plain.cargo(repo, false, buildArgs...)
	if want := run(t, filepath.Join(plainTarget, profile, "app")); got != want {
		t.Errorf("after %s: grove's binary prints %q, plain cargo's %q", c.name, got, want)
	}

	// (3) Back to the original inputs: served from the store again.
	git(t, repo, "checkout", "-q", "--", ".")
	e.extra = nil
	os.RemoveAll(filepath.Join(repo, "target"))
	b = e.cargo(repo, true, "build")
	if b.count("miss") != 0 {
		t.Errorf("after reverting %s: misses %v, want none", c.name, b.crates("miss"))
	}
	if got := run(t, filepath.Join(repo, "target", "debug", "app")); got != orig {
		t.Errorf("after reverting %s: binary prints %q, want %q", c.name, got, orig)
	}
}
