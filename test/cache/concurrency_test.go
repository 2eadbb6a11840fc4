package cache_test

import (
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Worktrees that build the same commit at the same moment compile each unit
// once in total: the first miss takes the unit's lock, the others wait and
// are then served from the store (single-flight across processes).
func TestParallelWorktreesCompileEachUnitOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	repo := newRepo(t, fixture())
	dirs := []string{repo}
	for _, n := range []string{"b", "c"} {
		wt := filepath.Join(t.TempDir(), n)
		git(t, repo, "worktree", "add", "-q", "-b", n, wt)
		dirs = append(dirs, wt)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(dirs))
	for i, d := range dirs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.tryCargo(d, true, "build")
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	misses := map[string]int{}
	hits := 0
	for _, ev := range mustEvents(t, e) {
		switch ev.Kind {
		case "miss":
			misses[ev.Key]++
		case "hit":
			hits++
		}
	}
	for k, n := range misses {
		if n > 1 {
			t.Errorf("unit %s compiled %d times", k[:12], n)
		}
	}
	if want := 2 * len(misses); hits != want {
		t.Errorf("hits = %d, want %d (every unit compiled once, served twice)", hits, want)
	}
	for _, d := range dirs {
		if got := run(t, filepath.Join(d, "target/debug/app")); !strings.Contains(got, "names=AB") {
			t.Errorf("%s: binary prints %q", d, got)
		}
	}
}
