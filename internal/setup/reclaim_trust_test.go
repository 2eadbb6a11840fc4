package setup

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Issue 7, case 28: an independent git clone that happens to sit under
// .worktrees/ is another repository, not an orphan of this one; its live
// target/ must never be listed or deleted.
func TestReclaimLeavesOtherRepositories(t *testing.T) {
	needCargo(t)
	ctx := context.Background()
	_, root := tinyRepo(t)
	writeFile(t, filepath.Join(root, ".gitignore"), "/target\n/.worktrees\n")
	clone := filepath.Join(root, ".worktrees", "clone")
	run(t, root, "git", "clone", "-q", root, clone)
	cargoBuild(t, clone)
	// A worktree of another repository (the clone) under .worktrees/.
	foreign := filepath.Join(root, ".worktrees", "foreign")
	run(t, clone, "git", "worktree", "add", "-q", "-b", "foreign", foreign)
	cargoBuild(t, foreign)
	// A real orphan: this repository's worktree whose admin dir is gone,
	// its .git file still naming it.
	gone := filepath.Join(root, ".worktrees", "gone")
	addWorktree(t, root, gone)
	cargoBuild(t, gone)
	run(t, root, "rm", "-rf", filepath.Join(root, ".git", "worktrees", "gone"))
	r := open(t, root)
	if _, err := InitShared(ctx, r, InitOptions{}); err != nil {
		t.Fatal(err)
	}
	st, err := GetStatus(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	var orphans []string
	for _, c := range st.Reclaim {
		if strings.HasPrefix(c.Path, clone) || strings.HasPrefix(c.Path, foreign) {
			t.Errorf("another repository's target dir listed for reclaim: %+v", c)
		}
		if c.Kind == "orphan" {
			orphans = append(orphans, c.Path)
		}
	}
	if len(orphans) != 1 || orphans[0] != filepath.Join(gone, "target") {
		t.Errorf("orphans %v, want only %s", orphans, filepath.Join(gone, "target"))
	}
	if _, err := Reclaim(ctx, st.Reclaim, nil); err != nil {
		t.Fatal(err)
	}
	if !exists(filepath.Join(clone, "target", "debug", "tiny")) || !exists(filepath.Join(foreign, "target", "debug", "tiny")) {
		t.Fatal("reclaim deleted another repository's build")
	}
}

// Issue 7, case 28: Cargo releases its build lock before it runs test
// binaries, so a target dir whose tests are running looks idle to the
// lock. status must show it in use and reclaim must leave it alone; the
// tests then finish and pass.
func TestReclaimSkipsDirWithRunningTests(t *testing.T) {
	needCargo(t)
	ctx := context.Background()
	base, root := tinyRepo(t)
	wt := filepath.Join(base, "wt")
	addWorktree(t, root, wt)
	// The test says it started, then waits for the file "go".
	writeFile(t, filepath.Join(wt, "tests", "wait.rs"), `#[test]
fn waits() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::write(dir.join("started"), "").unwrap();
    for _ in 0..600 {
        if dir.join("go").exists() { return; }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("never told to go");
}
`)
	cmd := exec.Command("cargo", "test", "-q", "--offline")
	cmd.Dir = wt
	cmd.Env = cleanEnv()
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	for deadline := time.Now().Add(3 * time.Minute); !exists(filepath.Join(wt, "started")); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("test never started: %s", out)
		}
	}
	r := open(t, root)
	if _, err := InitShared(ctx, r, InitOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	st, err := GetStatus(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(wt, "target")
	var found bool
	for _, c := range st.Reclaim {
		if c.Path == target {
			found = true
			if !c.Building {
				t.Errorf("status: %s not shown in use while its tests run: %+v", target, c)
			}
		}
	}
	if !found {
		t.Fatalf("%s not listed at all: %+v", target, st.Reclaim)
	}
	rr, err := Reclaim(ctx, st.Reclaim, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rr.Deleted) != 0 || !exists(target) {
		t.Errorf("reclaim deleted a target dir whose tests run: %+v", rr.Deleted)
	}
	writeFile(t, filepath.Join(wt, "go"), "")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("cargo test failed: %v\n%s", err, out)
	}
}

// Issue 7, case 28: a file of a target dir that is also linked elsewhere
// (grove's store hardlinks blobs into target dirs) is not freed by
// deleting the dir. status must count only what reclaim really frees, and
// reclaim's count must agree.
func TestReclaimBytesCountOnlyLastLinks(t *testing.T) {
	needCargo(t)
	ctx := context.Background()
	base, root := tinyRepo(t)
	wt := filepath.Join(base, "wt")
	addWorktree(t, root, wt)
	cargoBuild(t, wt)
	// A "store" outside holds a 4 MiB file also linked into the target dir.
	store := filepath.Join(base, "store")
	writeFile(t, filepath.Join(store, "blob"), strings.Repeat("x", 4<<20))
	if err := os.Link(filepath.Join(store, "blob"), filepath.Join(wt, "target", "debug", "blob")); err != nil {
		t.Fatal(err)
	}
	r := open(t, root)
	if _, err := InitShared(ctx, r, InitOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	st, err := GetStatus(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Reclaim) != 1 {
		t.Fatalf("candidates: %+v", st.Reclaim)
	}
	if st.ReclaimBytes > st.Reclaim[0].Bytes-4<<20 {
		t.Errorf("status says reclaim frees %d of the dir's %d bytes, counting the store's 4 MiB", st.ReclaimBytes, st.Reclaim[0].Bytes)
	}
	rr, err := Reclaim(ctx, st.Reclaim, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rr.Freed != st.ReclaimBytes {
		t.Errorf("reclaim freed %d, status said %d", rr.Freed, st.ReclaimBytes)
	}
	if _, err := os.Stat(filepath.Join(store, "blob")); err != nil {
		t.Error(err)
	}
}
