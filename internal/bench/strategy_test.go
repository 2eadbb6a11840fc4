package bench

import (
	"slices"
	"testing"
)

func TestBaseEnvNeutralizesTheUsersSetup(t *testing.T) {
	env := baseEnv([]string{
		"PATH=/bin", "CARGO_TARGET_DIR=/home/u/.shared-target", "GROVE_DIR=/home/u/.grove",
		"RUSTC_WRAPPER=sccache", "SCCACHE_DIR=/home/u/.cache/sccache", "HOME=/home/u",
	})
	for _, kv := range []string{"PATH=/bin", "HOME=/home/u", "RUSTC_WRAPPER=", "RUSTC_WORKSPACE_WRAPPER="} {
		if !slices.Contains(env, kv) {
			t.Errorf("env lacks %q: %v", kv, env)
		}
	}
	for _, kv := range []string{"CARGO_TARGET_DIR=/home/u/.shared-target", "GROVE_DIR=/home/u/.grove", "RUSTC_WRAPPER=sccache", "SCCACHE_DIR=/home/u/.cache/sccache"} {
		if slices.Contains(env, kv) {
			t.Errorf("env keeps the user's %q", kv)
		}
	}
}

func TestStrategiesIsolateTheirOutputs(t *testing.T) {
	dir := t.TempDir()
	sh := &sharedStrategy{}
	if err := sh.setup(t.Context(), dir); err != nil {
		t.Fatal(err)
	}
	g := &groveStrategy{bin: "/usr/bin/grove"}
	if err := g.setup(t.Context(), dir); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want map[string]string
	}{
		{"plain", (&plainStrategy{}).env("/w/a"), map[string]string{"CARGO_BUILD_TARGET_DIR": "target"}},
		{"shared", sh.env("/w/a"), map[string]string{"CARGO_BUILD_TARGET_DIR": dir + "/shared-target"}},
		{"grove", g.env("/w/a"), map[string]string{
			"CARGO_BUILD_TARGET_DIR": "target", "RUSTC_WRAPPER": "/usr/bin/grove", "GROVE_DIR": dir + "/grove-store",
		}},
	} {
		for k, v := range tc.want {
			if tc.env[k] != v {
				t.Errorf("%s: %s=%q, want %q", tc.name, k, tc.env[k], v)
			}
		}
	}
	if g.prepare("/w/a") != nil {
		t.Error("grove without seeding prepares worktrees")
	}
	if c := (&groveStrategy{bin: "/usr/bin/grove", seed: true}).prepare("/w/a"); c == nil || c.Args[1] != "seed" {
		t.Errorf("grove-seeded prepare = %+v", c)
	}
}
