package cache_test

import (
	"os"
	"path/filepath"
	"testing"
)

// Right after a build served from the store, Cargo must find every unit
// fresh: restored outputs carry mtimes that satisfy its freshness rule, so
// the next build runs no rustc at all.
func TestSecondBuildIsNoop(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	repo := newRepo(t, fixture())
	e.cargo(repo, true, "build")
	os.RemoveAll(filepath.Join(repo, "target"))
	b := e.cargo(repo, true, "build") // all hits; build scripts re-ran just now
	if b.count("miss") != 0 {
		t.Fatalf("restore build: misses %v", b.crates("miss"))
	}
	b = e.cargo(repo, true, "build")
	if len(b.compiled) != 0 || len(b.events) != 0 {
		t.Errorf("second build not a no-op: compiled %v, wrapper events %d", b.compiled, len(b.events))
	}
}

// Building and editing in worktree B never makes worktree A rebuild: the
// store's files are shared by hardlink, and grove never re-dates them.
func TestOtherWorktreeStaysFresh(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	repo := newRepo(t, fixture())
	wtB := filepath.Join(t.TempDir(), "b")
	git(t, repo, "worktree", "add", "-q", "-b", "b", wtB)
	e.cargo(repo, true, "build")
	if b := e.cargo(repo, true, "build"); len(b.compiled) != 0 {
		t.Fatalf("A not fresh after its own build: %v", b.compiled)
	}
	e.cargo(wtB, true, "build")
	edit(t, filepath.Join(wtB, "alpha/src/a.rs"), "pub const NAME: &str = \"Z\";\n")
	e.cargo(wtB, true, "build")
	edit(t, filepath.Join(wtB, "alpha/src/a.rs"), "pub const NAME: &str = \"A\";\n")
	e.cargo(wtB, true, "build") // back to A's sources: served from the store
	b := e.cargo(repo, true, "build")
	if len(b.compiled) != 0 || len(b.events) != 0 {
		t.Errorf("worktree A rebuilt after builds in B: compiled %v, events %d", b.compiled, len(b.events))
	}
}
