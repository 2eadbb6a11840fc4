package setup

import (
	"context"
	"github.com/grove-rs/grove/internal/testneed"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/grove-rs/grove/internal/cargolayout"
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

// A Cargo of the per-unit layout (1.96+) holds .cargo-build-lock and
// .cargo-artifact-lock, and .cargo-lock only shared: status and reclaim
// must still see its running build.
func TestReclaimSkipsRunningNightlyBuild(t *testing.T) {
	needCargo(t)
	if exec.Command("cargo", "+nightly", "--version").Run() != nil {
		testneed.Missing(t, "nightly", "no nightly toolchain")
	}
	ctx := context.Background()
	base, root := tinyRepo(t)
	wt := filepath.Join(base, "wt")
	addWorktree(t, root, wt)
	writeFile(t, filepath.Join(wt, "build.rs"), "fn main() { std::thread::sleep(std::time::Duration::from_secs(8)); }\n")
	r := open(t, root)
	if _, err := InitShared(ctx, r, InitOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(wt, "target")
	cmd := exec.Command("cargo", "build", "-q", "--offline")
	cmd.Dir = wt
	cmd.Env = append(cleanEnv(), "CARGO_TARGET_DIR="+target, "RUSTUP_TOOLCHAIN=nightly", "CARGO_UNSTABLE_BUILD_DIR_NEW_LAYOUT=true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	for deadline := time.Now().Add(time.Minute); len(cargolayout.LockFiles(target)) == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no lock file appeared")
		}
	}
	st, err := GetStatus(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Reclaim) != 1 || st.Reclaim[0].Path != target || !st.Reclaim[0].Building {
		t.Fatalf("status while a nightly build runs: %+v", st.Reclaim)
	}
	rr, err := Reclaim(ctx, st.Reclaim, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rr.Deleted) != 0 || !exists(target) {
		t.Fatalf("reclaim deleted the dir of a running build: %+v", rr)
	}
}
