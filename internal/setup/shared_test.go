package setup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grove-rs/grove/internal/cargolock"
	"github.com/grove-rs/grove/internal/gitwt"
	"golang.org/x/sys/unix"

	"github.com/grove-rs/grove/internal/testneed"
)

// TestSharedWorkflow is the seed's three steps on a tiny workspace with
// real worktrees and real cargo builds: init, build, status, reclaim.
func TestSharedWorkflow(t *testing.T) {
	needCargo(t)
	ctx := context.Background()
	base, root := tinyRepo(t)
	a := filepath.Join(root, "worktrees", "a")
	b := filepath.Join(root, ".worktrees", "b")
	ext := filepath.Join(base, "ext")
	addWorktree(t, root, a)
	addWorktree(t, root, b)
	addWorktree(t, root, ext)
	for _, d := range []string{root, a, b, ext} {
		cargoBuild(t, d)
	}
	// A target/ that Cargo did not make is never a candidate.
	writeFile(t, filepath.Join(b, "src", "target", "notes.txt"), "mine")

	r := open(t, a) // from a linked worktree
	if r.Root != root {
		t.Fatalf("root %s, want %s", r.Root, root)
	}
	res, err := InitShared(ctx, r, InitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := os.ReadFile(filepath.Join(root, ".cargo", "config.toml"))
	if want := "[build]\ntarget-dir = \"" + root + "/.shared-target\"\n"; string(cfg) != want {
		t.Fatalf("config:\n%s\nwant\n%s", cfg, want)
	}
	gi, _ := os.ReadFile(filepath.Join(root, ".gitignore"))
	if string(gi) != "/target\n.shared-target/\n" {
		t.Fatalf(".gitignore: %q", gi)
	}
	if ign, _ := gitwt.IsIgnored(ctx, root, ".cargo/config.toml"); !ign {
		t.Fatal("config not ignored after init")
	}
	covered := map[string]bool{}
	for _, c := range res.Worktrees {
		covered[c.Path] = c.Covered
	}
	if !covered[root] || !covered[a] || !covered[b] || covered[ext] {
		t.Fatalf("coverage: %+v", res.Worktrees)
	}

	// Idempotent: nothing changes the second time, from another worktree.
	before := snapshot(t, root)
	res2, err := InitShared(ctx, open(t, b), InitOptions{})
	if err != nil || len(res2.Changed) != 0 {
		t.Fatalf("second init: %v, changed %v", err, res2.Changed)
	}
	sameSnapshot(t, before, snapshot(t, root))

	// Builds now go to the shared dir.
	cargoBuild(t, a)
	if !IsCargoTargetDir(filepath.Join(root, ".shared-target")) {
		t.Fatal("shared dir not used by cargo")
	}

	st, err := GetStatus(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode != ModeShared || st.SharedBytes == 0 {
		t.Fatalf("status: mode %s shared %d", st.Mode, st.SharedBytes)
	}
	byPath := map[string]WorktreeStatus{}
	for _, w := range st.Worktrees {
		byPath[w.Path] = w
	}
	if w := byPath[a]; !w.Shared || w.TargetDir != r.SharedDir || w.Location != gitwt.LocWorktrees || w.Ref != "wt-a" {
		t.Errorf("a: %+v", w)
	}
	if w := byPath[ext]; w.Shared || w.TargetDir != filepath.Join(ext, "target") || w.Location != gitwt.LocElsewhere || w.Bytes == 0 {
		t.Errorf("ext: %+v", w)
	}
	var got []string
	for _, c := range st.Reclaim {
		got = append(got, c.Path+":"+c.Kind)
	}
	want := []string{
		filepath.Join(root, ".worktrees/b/target") + ":obsolete",
		filepath.Join(root, "target") + ":obsolete",
		filepath.Join(root, "worktrees/a/target") + ":obsolete",
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("reclaim candidates:\n%v\nwant\n%v", got, want)
	}
	if st.ReclaimBytes == 0 || st.TotalBytes < st.ReclaimBytes+st.SharedBytes {
		t.Fatalf("bytes: reclaim %d shared %d total %d", st.ReclaimBytes, st.SharedBytes, st.TotalBytes)
	}

	rr, err := Reclaim(ctx, st.Reclaim, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rr.Freed != st.ReclaimBytes || len(rr.Deleted) != 3 {
		t.Fatalf("freed %d, status said %d; deleted %d", rr.Freed, st.ReclaimBytes, len(rr.Deleted))
	}
	for _, c := range st.Reclaim {
		if exists(c.Path) {
			t.Errorf("%s still there", c.Path)
		}
	}
	for _, keep := range []string{filepath.Join(ext, "target"), r.SharedDir, filepath.Join(b, "src", "target", "notes.txt")} {
		if !exists(keep) {
			t.Errorf("%s was deleted", keep)
		}
	}
	// Cargo still builds everywhere, and a no-op in the shared dir.
	cargoBuild(t, root)
	cargoBuild(t, b)
}

func TestInitSharedAll(t *testing.T) {
	needCargo(t)
	ctx := context.Background()
	base, root := tinyRepo(t)
	ext := filepath.Join(base, "ext")
	addWorktree(t, root, ext)
	// The outside worktree has its own untracked config with other keys.
	writeFile(t, filepath.Join(ext, ".cargo", "config.toml"), "# mine\n[net]\noffline = true\n")
	r := open(t, root)
	res, err := InitShared(ctx, r, InitOptions{All: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Worktrees {
		if !c.Covered {
			t.Errorf("not covered: %+v", c)
		}
	}
	b, _ := os.ReadFile(filepath.Join(ext, ".cargo", "config.toml"))
	if want := "# mine\n[net]\noffline = true\n\n[build]\ntarget-dir = \"" + r.SharedDir + "\"\n"; string(b) != want {
		t.Fatalf("ext config %q", b)
	}
	if ign, _ := gitwt.IsIgnored(ctx, ext, ".cargo/config.toml"); !ign {
		t.Error("ext config not ignored")
	}
	cargoBuild(t, ext)
	if exists(filepath.Join(ext, "target")) {
		t.Error("ext built into its own target/")
	}
	// off removes both, leaving the other keys byte-identical.
	if _, err := Off(ctx, r, false); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(filepath.Join(ext, ".cargo", "config.toml"))
	if string(b) != "# mine\n[net]\noffline = true\n" {
		t.Fatalf("after off: %q", b)
	}
	if exists(filepath.Join(root, ".cargo")) {
		t.Error("root .cargo/ left behind although init created it")
	}
}

// TestInitSharedTrackedOutsideConfig: --all does not write a tracked
// config in an outside worktree; that worktree stays uncovered.
func TestInitSharedTrackedOutsideConfig(t *testing.T) {
	ctx := context.Background()
	base, root := tinyRepo(t)
	writeFile(t, filepath.Join(root, "sub", ".cargo", "config.toml"), "[net]\noffline = true\n")
	ext := filepath.Join(base, "ext")
	// Track a config at the root of the branch the outside worktree uses.
	run(t, root, "git", "checkout", "-q", "-b", "tracked")
	writeFile(t, filepath.Join(root, ".cargo", "config.toml"), "[net]\noffline = true\n")
	run(t, root, "git", "add", ".cargo/config.toml")
	run(t, root, "git", "commit", "-q", "-m", "tracked config")
	run(t, root, "git", "checkout", "-q", "main")
	os.RemoveAll(filepath.Join(root, ".cargo"))
	run(t, root, "git", "worktree", "add", "-q", ext, "tracked")
	res, err := InitShared(ctx, open(t, root), InitOptions{All: true})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(ext, ".cargo", "config.toml"))
	if string(b) != "[net]\noffline = true\n" {
		t.Fatalf("tracked config written: %q", b)
	}
	for _, c := range res.Worktrees {
		if c.Path == ext && c.Covered {
			t.Fatal("ext should not be covered")
		}
	}
	if !strings.Contains(strings.Join(res.Notes, "\n"), "tracked") {
		t.Fatalf("notes: %v", res.Notes)
	}
}

// TestBadInput: every failure leaves all files unchanged.
func TestBadInput(t *testing.T) {
	ctx := context.Background()
	t.Run("not a repository", func(t *testing.T) {
		dir := t.TempDir()
		t.Setenv("GIT_CEILING_DIRECTORIES", filepath.Dir(dir))
		_, err := Open(ctx, dir, testEnv(t))
		if !errors.Is(err, gitwt.ErrNotRepo) || !strings.Contains(err.Error(), dir+" is not inside a git repository") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("no Cargo.toml", func(t *testing.T) {
		_, root := tinyRepo(t)
		run(t, root, "git", "rm", "-q", "Cargo.toml")
		_, err := Open(ctx, root, testEnv(t))
		if err == nil || !strings.Contains(err.Error(), "has no Cargo.toml") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("malformed config", func(t *testing.T) {
		_, root := tinyRepo(t)
		writeFile(t, filepath.Join(root, ".cargo", "config.toml"), "[source.crates-io\nreplace-with = 1\n")
		before := snapshot(t, root)
		r := open(t, root)
		for name, f := range map[string]func() error{
			"init --shared": func() error { _, err := InitShared(ctx, r, InitOptions{}); return err },
			"init":          func() error { _, err := InitCache(ctx, r, false); return err },
			"off":           func() error { _, err := Off(ctx, r, false); return err },
			"status":        func() error { _, err := GetStatus(ctx, r); return err },
		} {
			err := f()
			if err == nil || !strings.Contains(err.Error(), "not valid TOML: line 1") {
				t.Errorf("%s: err = %v", name, err)
			}
		}
		sameSnapshot(t, before, snapshot(t, root))
	})
	t.Run("tracked config that sets target-dir", func(t *testing.T) {
		_, root := tinyRepo(t)
		writeFile(t, filepath.Join(root, ".cargo", "config.toml"), "[build]\ntarget-dir = \"out\"\n")
		run(t, root, "git", "add", ".cargo/config.toml")
		run(t, root, "git", "commit", "-q", "-m", "config")
		before := snapshot(t, root)
		_, err := InitShared(ctx, open(t, root), InitOptions{})
		if err == nil || !strings.Contains(err.Error(), "is committed and sets build.target-dir") || strings.Contains(err.Error(), "\n") {
			t.Fatalf("err = %v", err)
		}
		sameSnapshot(t, before, snapshot(t, root))
		// Cache mode may write a committed config: the value has no path.
		if _, err := InitCache(ctx, open(t, root), false); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("read-only repository", func(t *testing.T) {
		_, root := tinyRepo(t)
		before := snapshot(t, root)
		makeReadOnly(t, root)
		_, err := InitShared(ctx, open(t, root), InitOptions{})
		if err == nil || !strings.Contains(err.Error(), "cannot write") {
			t.Fatalf("err = %v", err)
		}
		sameSnapshot(t, before, snapshot(t, root))
	})
}

// makeReadOnly makes dir read-only for root too: a read-only bind mount,
// else the immutable attribute on every file and dir; undone at cleanup.
func makeReadOnly(t *testing.T, dir string) {
	t.Helper()
	if undo, ok := bindReadOnly(dir); ok {
		t.Cleanup(undo)
		return
	}
	if out, err := runQuiet(dir, "chattr", "-R", "+i", dir); err == nil {
		t.Cleanup(func() { runQuiet(dir, "chattr", "-R", "-i", dir) })
		return
	} else {
		testneed.Missing(t, "mount", fmt.Sprintf("cannot make a directory read-only for root here (no bind mount, chattr: %v %s)", err, out))
	}
}

func TestModeSwitchAndOff(t *testing.T) {
	ctx := context.Background()
	_, root := tinyRepo(t)
	orig := "# sources\n[source.crates-io]\nreplace-with = \"debian\"\n\n[build]\njobs = 2 # keep\n\n[net]\noffline = true\n"
	cfgPath := filepath.Join(root, ".cargo", "config.toml")
	writeFile(t, cfgPath, orig)
	run(t, root, "sh", "-c", "echo /.cargo/config.toml >> .git/info/exclude")
	r := open(t, root)
	read := func() string { b, _ := os.ReadFile(cfgPath); return string(b) }

	res, err := InitCache(ctx, r, false)
	if err != nil || res.SwitchedFrom != "" {
		t.Fatal(err, res)
	}
	if m, _, _ := r.Mode(); m != ModeCache {
		t.Fatalf("mode %s", m)
	}
	if want := strings.Replace(orig, "jobs = 2 # keep\n", "jobs = 2 # keep\nrustc-wrapper = \"grove\"\n", 1); read() != want {
		t.Fatalf("cache config:\n%s", read())
	}
	res, err = InitShared(ctx, r, InitOptions{})
	if err != nil || res.SwitchedFrom != ModeCache {
		t.Fatal(err, res.SwitchedFrom)
	}
	if strings.Contains(read(), "rustc-wrapper") || !strings.Contains(read(), "target-dir") {
		t.Fatalf("shared config:\n%s", read())
	}
	res, err = InitCache(ctx, r, false)
	if err != nil || res.SwitchedFrom != ModeShared || strings.Contains(read(), "target-dir") {
		t.Fatalf("%v %+v\n%s", err, res, read())
	}
	if _, err := Off(ctx, r, false); err != nil {
		t.Fatal(err)
	}
	if read() != orig {
		t.Fatalf("off did not restore the file:\n%q\nwant\n%q", read(), orig)
	}
	if m, _, _ := r.Mode(); m != ModeNone {
		t.Fatalf("mode after off: %s", m)
	}
	// A user's own wrapper and target-dir are not grove's: off keeps them.
	own := "[build]\nrustc-wrapper = \"sccache\"\ntarget-dir = \"/elsewhere\"\n"
	writeFile(t, cfgPath, own)
	if res, err := Off(ctx, r, false); err != nil || len(res.Changed) != 0 || read() != own {
		t.Fatalf("off touched a foreign config: %v %+v %q", err, res, read())
	}

	// --user writes $CARGO_HOME/config.toml only.
	writeFile(t, cfgPath, orig)
	home, _ := filepathCargoHome(r)
	if _, err := InitCache(ctx, r, true); err != nil {
		t.Fatal(err)
	}
	ub, _ := os.ReadFile(filepath.Join(home, "config.toml"))
	if string(ub) != "[build]\nrustc-wrapper = \"grove\"\n" || read() != orig {
		t.Fatalf("user config %q, repo config %q", ub, read())
	}
	if m, src, _ := r.Mode(); m != ModeCache || src != filepath.Join(home, "config.toml") {
		t.Fatalf("mode %s from %s", m, src)
	}
	if _, err := Off(ctx, r, true); err != nil {
		t.Fatal(err)
	}
	if exists(filepath.Join(home, "config.toml")) {
		t.Fatal("user config left behind")
	}
}

func filepathCargoHome(r *Repo) (string, error) { return r.Env("CARGO_HOME"), nil }

func TestReclaimOrphansAndLocks(t *testing.T) {
	needCargo(t)
	ctx := context.Background()
	_, root := tinyRepo(t)
	c := filepath.Join(root, "worktrees", "c")
	p := filepath.Join(root, "worktrees", "p")
	l := filepath.Join(root, "worktrees", "l")
	for _, d := range []string{c, p, l} {
		addWorktree(t, root, d)
		cargoBuild(t, d)
	}
	// c: the worktree is gone from git, its dir with target/ remains.
	os.Remove(filepath.Join(c, ".git"))
	run(t, root, "git", "worktree", "prune")
	// p: git lists it as prunable (its .git file is gone, not pruned yet).
	os.Remove(filepath.Join(p, ".git"))
	// A dir under worktrees/ whose target/ is not Cargo's.
	writeFile(t, filepath.Join(root, "worktrees", "x", "target", "keep.txt"), "x")

	r := open(t, root)
	if _, err := InitShared(ctx, r, InitOptions{}); err != nil {
		t.Fatal(err)
	}
	// A build "holds" l's old target dir.
	fd, err := unix.Open(filepath.Join(l, "target", "debug", cargolock.LockName), unix.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	st, err := GetStatus(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	var lockedBytes int64
	for _, cand := range st.Reclaim {
		kinds[cand.Path] = cand.Kind
		if cand.Building {
			kinds[cand.Path] += ",building"
			lockedBytes += cand.Bytes
		}
	}
	want := map[string]string{
		filepath.Join(c, "target"): "orphan",
		filepath.Join(p, "target"): "prunable",
		filepath.Join(l, "target"): "obsolete,building",
	}
	for k, v := range want {
		if kinds[k] != v {
			t.Errorf("%s: got %q, want %q (all: %v)", k, kinds[k], v, kinds)
		}
	}
	if _, ok := kinds[filepath.Join(root, "worktrees", "x", "target")]; ok {
		t.Error("non-Cargo target/ listed")
	}
	for _, w := range st.Worktrees {
		if w.Path == p && !w.Prunable {
			t.Errorf("p not prunable: %+v", w)
		}
	}
	rr, err := Reclaim(ctx, st.Reclaim, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rr.Freed != st.ReclaimBytes {
		t.Errorf("freed %d, status said %d", rr.Freed, st.ReclaimBytes)
	}
	if len(rr.Skipped) != 1 || rr.Skipped[0].Path != filepath.Join(l, "target") || !exists(filepath.Join(l, "target")) {
		t.Errorf("skipped: %+v", rr.Skipped)
	}
	if exists(filepath.Join(c, "target")) || exists(filepath.Join(p, "target")) {
		t.Error("orphan/prunable target left")
	}
	if !exists(filepath.Join(root, "worktrees", "x", "target", "keep.txt")) {
		t.Error("non-Cargo dir deleted")
	}
}

func TestDoctor(t *testing.T) {
	needCargo(t)
	ctx := context.Background()
	base, root := tinyRepo(t)
	r := open(t, root)
	rep, err := Doctor(ctx, r)
	if err != nil || rep.OK || rep.Problems[0].Check != "setup" {
		t.Fatalf("not set up: %v %+v", err, rep)
	}
	if _, err := InitShared(ctx, r, InitOptions{}); err != nil {
		t.Fatal(err)
	}
	rep, err = Doctor(ctx, r)
	if err != nil || !rep.OK || len(rep.Caveats) != 4 {
		t.Fatalf("after init: %v %+v", err, rep)
	}
	checks := func(rep *Report) string {
		var s []string
		for _, p := range rep.Problems {
			s = append(s, p.Check)
			if p.Fix == "" {
				t.Errorf("problem without a fix: %+v", p)
			}
		}
		return strings.Join(s, ",")
	}
	// Uncovered worktree, missing shared dir, config not ignored.
	addWorktree(t, root, filepath.Join(base, "ext"))
	os.Remove(r.SharedDir)
	os.WriteFile(filepath.Join(r.Git.CommonDir, "info", "exclude"), nil, 0o644)
	rep, _ = Doctor(ctx, r)
	if got := checks(rep); got != "config-ignored,target-dir-exists,worktree-covered" {
		t.Fatalf("problems: %s", got)
	}
	// Tracked config.
	run(t, root, "git", "add", "-f", ".cargo/config.toml")
	rep, _ = Doctor(ctx, r)
	if !strings.Contains(checks(rep), "config-ignored") || !strings.Contains(rep.Problems[0].Message, "tracked") {
		t.Fatalf("tracked: %+v", rep.Problems)
	}
}
