package cache_test

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/grove-rs/grove/internal/stats"
)

// Issue 7, "done when": 4 worktrees, 10 rounds, each round editing the same
// crates at once. Most rounds every worktree has different code; every
// fifth round all have the same. No build may fail, every binary must run
// its own worktree's code, compiles of different code must run at the same
// time (no worktree waits for another's different sources), and identical
// code must compile once.
func TestStressParallelWorktrees(t *testing.T) {
	if testing.Short() {
		t.Skip("stress run: skipped with -short")
	}
	t.Parallel()
	e := newEnv(t)
	repo := newRepo(t, map[string]string{
		"Cargo.toml":     "[workspace]\nmembers = [\"l\", \"app\"]\nresolver = \"2\"\n",
		"l/Cargo.toml":   "[package]\nname = \"l\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
		"l/src/lib.rs":   "pub fn v() -> u32 { 0 }\n",
		"app/Cargo.toml": "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[dependencies]\nl = { path = \"../l\" }\n",
		"app/src/main.rs": "fn main() { println!(\"{} {}\", app_tag(), l::v()); }\n" +
			"fn app_tag() -> &'static str { \"start\" }\n",
	})
	dirs := []string{repo}
	for i := 1; i < 4; i++ {
		wt := filepath.Join(t.TempDir(), fmt.Sprintf("wt%d", i))
		git(t, repo, "worktree", "add", "-q", "--detach", wt)
		dirs = append(dirs, wt)
	}
	overlapRounds := 0
	for r := 1; r <= 10; r++ {
		same := r%5 == 0
		want := make([]string, len(dirs))
		for w, d := range dirs {
			v, tag := 100*w+r, fmt.Sprintf("w%d-r%d", w, r)
			if same {
				v, tag = 1000+r, fmt.Sprintf("same-r%d", r)
			}
			// Different code of the same crates: a body and a whole
			// function differ per worktree.
			edit(t, filepath.Join(d, "l/src/lib.rs"), fmt.Sprintf("pub fn v() -> u32 { %d }\npub fn filler_%d() {}\n", v, v))
			edit(t, filepath.Join(d, "app/src/main.rs"), fmt.Sprintf("fn main() { println!(\"{} {}\", app_tag(), l::v()); }\nfn app_tag() -> &'static str { %q }\n", tag))
			want[w] = fmt.Sprintf("%s %d", tag, v)
		}
		before := len(mustEvents(t, e))
		var wg sync.WaitGroup
		errs := make([]error, len(dirs))
		for w, d := range dirs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[w] = e.tryCargo(d, true, "build")
			}()
		}
		wg.Wait()
		for w, err := range errs {
			if err != nil {
				t.Fatalf("round %d, worktree %d: build failed: %v", r, w, err)
			}
			if got := run(t, filepath.Join(dirs[w], "target/debug/app")); got != want[w] {
				t.Errorf("round %d, worktree %d runs %q, want its own %q", r, w, got, want[w])
			}
		}
		evs := mustEvents(t, e)[before:]
		misses := map[string][]stats.Event{}
		for _, ev := range evs {
			if ev.Kind == stats.Miss {
				misses[ev.Crate] = append(misses[ev.Crate], ev)
			}
		}
		if same {
			for _, crate := range []string{"l", "app"} {
				if n := len(misses[crate]); n != 1 {
					t.Errorf("round %d (same code everywhere): %s compiled %d times, want once", r, crate, n)
				}
			}
			continue
		}
		if n := maxOverlap(misses["l"]); n >= 2 {
			overlapRounds++
		}
		t.Logf("round %d timeline of l's compiles (ms from first start): %s", r, timeline(misses["l"]))
	}
	if overlapRounds == 0 {
		t.Errorf("compiles of different code never overlapped in time: worktrees waited for each other")
	}
	t.Logf("rounds with overlapping compiles of different code: %d of 8", overlapRounds)
}

// maxOverlap returns the largest number of compiles running at one moment.
func maxOverlap(evs []stats.Event) int {
	type edge struct {
		at    int64
		delta int
	}
	var edges []edge
	for _, ev := range evs {
		if ev.CompileAt == 0 {
			continue
		}
		edges = append(edges, edge{ev.CompileAt, 1}, edge{ev.CompileAt + ev.CompileUs/1000, -1})
	}
	sort.Slice(edges, func(i, j int) bool {
		if edges[i].at != edges[j].at {
			return edges[i].at < edges[j].at
		}
		return edges[i].delta < edges[j].delta
	})
	n, best := 0, 0
	for _, e := range edges {
		n += e.delta
		best = max(best, n)
	}
	return best
}

func timeline(evs []stats.Event) string {
	if len(evs) == 0 {
		return "(none)"
	}
	first := evs[0].CompileAt
	for _, ev := range evs {
		first = min(first, ev.CompileAt)
	}
	var parts []string
	for _, ev := range evs {
		parts = append(parts, fmt.Sprintf("[%d-%d]", ev.CompileAt-first, ev.CompileAt-first+ev.CompileUs/1000))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}
