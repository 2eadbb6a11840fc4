package shared

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// A worktree whose build.build-dir keeps Cargo's units in its own target/
// while the artifacts go to the shared dir still builds into that target/:
// status must show it as the worktree's build dir, reclaim must not list
// it, and doctor must say that shared mode shares nothing but the final
// artifacts there.
func TestBuildDirApartFromSharedDir(t *testing.T) {
	needCargo(t)
	ctx := context.Background()
	base, root := tinyRepo(t)
	wt := filepath.Join(base, "wt")
	addWorktree(t, root, wt)
	r := open(t, root)
	if _, err := InitShared(ctx, r, InitOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(wt, ".cargo", "config.toml"), "[build]\ntarget-dir = \""+r.SharedDir+"\"\nbuild-dir = \"target\"\n")
	cargoBuild(t, wt)
	if !IsCargoTargetDir(filepath.Join(wt, "target")) {
		t.Fatal("the build did not use wt/target as build dir")
	}
	st, err := GetStatus(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range st.Reclaim {
		if c.Path == filepath.Join(wt, "target") {
			t.Errorf("live build dir listed for reclaim: %+v", c)
		}
	}
	for _, w := range st.Worktrees {
		if w.Path == wt && w.BuildDir != filepath.Join(wt, "target") {
			t.Errorf("status: build dir %q", w.BuildDir)
		}
	}
	rep, err := Doctor(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, p := range rep.Problems {
		if p.Check == "build-dir-shared" && strings.Contains(p.Message, wt) {
			found = true
		}
	}
	if !found {
		t.Errorf("doctor does not report the unshared build dir: %+v", rep.Problems)
	}
}
