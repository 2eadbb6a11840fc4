package cache_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/grove-rs/grove/internal/testneed"
)

// corpusDir is the shared benchmark workspace (../shared/corpus/ws next to
// the repository), or GROVE_CORPUS.
func corpusDir(t *testing.T) string {
	t.Helper()
	needRegistry(t)
	dir := os.Getenv("GROVE_CORPUS")
	if dir == "" {
		_, file, _, _ := runtime.Caller(0)
		dir = filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "corpus", "ws")
	}
	if _, err := os.Stat(filepath.Join(dir, "Cargo.toml")); err != nil {
		testneed.Missing(t, "corpus", "not found at "+dir+" (set GROVE_CORPUS)")
	}
	return dir
}

// TestCorpus runs the real workload: two worktrees of the 280-crate corpus
// build at the same time and compile each unit once in total; a third,
// fresh worktree is then served entirely from the store, and its next build
// is a no-op.
func TestCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("corpus build takes minutes")
	}
	src := corpusDir(t)
	repo := filepath.Join(t.TempDir(), "corpus")
	if out, err := exec.Command("cp", "-a", src, repo).CombinedOutput(); err != nil {
		t.Fatalf("copy corpus: %v\n%s", err, out)
	}
	os.RemoveAll(filepath.Join(repo, "target"))
	os.WriteFile(filepath.Join(repo, ".gitignore"), []byte("/target\n"), 0o644)
	git(t, repo, "init", "-q", "-b", "main")
	git(t, repo, "add", "-A")
	git(t, repo, "commit", "-q", "-m", "corpus")
	var wts []string
	for _, n := range []string{"a", "b", "c"} {
		wt := filepath.Join(t.TempDir(), "wt-"+n)
		git(t, repo, "worktree", "add", "-q", "-b", n, wt)
		wts = append(wts, wt)
	}
	e := newEnv(t)

	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.tryCargo(wts[i], true, "build")
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Both builds ran at once, so each one's event window holds the other's
	// events too: count from the store's log, once.
	compiled := map[string]int{}
	hits := 0
	for _, ev := range mustEvents(t, e) {
		switch ev.Kind {
		case "miss":
			compiled[ev.Key]++
		case "hit":
			hits++
		}
	}
	for k, n := range compiled {
		if n > 1 {
			t.Errorf("unit %s compiled %d times by two parallel worktrees", k[:12], n)
		}
	}
	t.Logf("parallel: %d units compiled once, %d served to the other worktree", len(compiled), hits)

	fresh := e.cargo(wts[2], true, "build")
	if n := fresh.count("miss"); n != 0 {
		t.Errorf("fresh worktree: %d misses %v", n, fresh.crates("miss"))
	}
	for _, ev := range fresh.events {
		if ev.Kind == "error" {
			t.Errorf("fresh worktree: grove error on %s: %s", ev.Crate, ev.Reason)
		}
	}
	t.Logf("fresh worktree: %d hits, %d uncacheable", fresh.count("hit"), fresh.count("uncacheable"))
	noop := e.cargo(wts[2], true, "build")
	if len(noop.compiled) != 0 {
		t.Errorf("second build in the fresh worktree compiled %v", noop.compiled)
	}
	if out, err := exec.Command(filepath.Join(wts[2], "target/debug/ledger"), "--help").CombinedOutput(); err != nil {
		t.Errorf("restored ledger binary: %v\n%s", err, out)
	}
}
