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

// heavyMain is a main that takes rustc a noticeable time, so that compiles
// that run at once visibly overlap; v makes each worktree's code different.
func heavyMain(v string) string {
	var b strings.Builder
	for i := 0; i < 300; i++ {
		fmt.Fprintf(&b, "fn f%d(x: u64) -> u64 { x.wrapping_mul(%d) ^ (x >> 3) }\n", i, i+1)
	}
	b.WriteString("fn main() {\n    let mut s = 0u64;\n")
	for i := 0; i < 300; i++ {
		fmt.Fprintf(&b, "    s = s.wrapping_add(f%d(3));\n", i)
	}
	fmt.Fprintf(&b, "    println!(\"%s {}\", s);\n}\n", v)
	return b.String()
}

// buildAtOnce runs `cargo build` in every dir at the same moment.
func buildAtOnce(t *testing.T, e *env, dirs []string) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(dirs))
	start := make(chan struct{})
	for i, d := range dirs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = e.tryCargo(d, true, "build")
		}()
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// worktrees adds n-1 worktrees of repo, each on its own branch.
func worktrees(t *testing.T, repo string, n int) []string {
	dirs := []string{repo}
	for i := 1; i < n; i++ {
		wt := filepath.Join(t.TempDir(), fmt.Sprintf("wt%d", i))
		git(t, repo, "worktree", "add", "-q", "-b", fmt.Sprintf("b%d", i), wt)
		dirs = append(dirs, wt)
	}
	return dirs
}

// Case 24: 4 worktrees, each with a different main, build at once: their
// compiles of `app` overlap in time (the single-flight lock is per input
// set, not per argument key, which is the same in all four).
func TestDifferentSourcesCompileAtOnce(t *testing.T) {
	// Not parallel: the timeline is the point.
	e := newEnv(t)
	repo := newRepo(t, map[string]string{
		"Cargo.toml":  "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
		"src/main.rs": heavyMain("v0"),
	})
	dirs := worktrees(t, repo, 4)
	for i, d := range dirs {
		edit(t, filepath.Join(d, "src/main.rs"), heavyMain(fmt.Sprintf("v%d", i+1)))
	}
	buildAtOnce(t, e, dirs)

	type span struct {
		dir        string
		start, end int64 // unix ms
		lockUs     int64
	}
	var spans []span
	keys := map[string]bool{}
	for _, ev := range mustEvents(t, e) {
		if ev.Crate != "app" {
			continue
		}
		if ev.Kind != stats.Miss {
			t.Errorf("%s: app %s (%s), want a miss: every tree has its own code", ev.Dir, ev.Kind, ev.Reason)
			continue
		}
		keys[ev.Key] = true
		spans = append(spans, span{ev.Dir, ev.CompileAt, ev.CompileAt + ev.CompileUs/1000, ev.LockUs})
	}
	if len(spans) != 4 {
		t.Fatalf("%d compiles of app, want 4", len(spans))
	}
	if len(keys) != 1 {
		t.Errorf("%d argument keys, want 1 (the case is about one argument key)", len(keys))
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].end < spans[j].end })
	t0 := spans[0].start
	latestStart, earliestEnd := spans[0].start, spans[0].end
	for _, s := range spans {
		t0 = min(t0, s.start)
		latestStart = max(latestStart, s.start)
		earliestEnd = min(earliestEnd, s.end)
	}
	for _, s := range spans {
		t.Logf("app in %s: compiled %5d → %5d ms (waited %d ms for a lock)", filepath.Base(s.dir), s.start-t0, s.end-t0, s.lockUs/1000)
		if s.lockUs > 1_000_000 { // a real wait lasts a whole compile; under load, taking a free lock can take tens of ms
			t.Errorf("%s waited %d ms for another tree's compile of other code", s.dir, s.lockUs/1000)
		}
	}
	if latestStart >= earliestEnd {
		t.Errorf("compiles do not overlap: the last started at %d ms, the first ended at %d ms", latestStart-t0, earliestEnd-t0)
	}
	if n := maxOverlap(evsOf(mustEvents(t, e), "app", stats.Miss)); n != 4 {
		t.Errorf("at most %d compiles of app ran at once, want 4", n)
	}
	for i, d := range dirs {
		if got, want := run(t, filepath.Join(d, "target/debug/app")), fmt.Sprintf("v%d ", i+1); !strings.HasPrefix(got, want) {
			t.Errorf("%s prints %q, want %q...", d, got, want)
		}
	}
}

// Case 24, the other half: 4 worktrees of the same commit build at once and
// each unit is compiled once in total.
func TestSameCommitFourWorktreesCompileEachUnitOnce(t *testing.T) {
	e := newEnv(t)
	repo := newRepo(t, fixture())
	dirs := worktrees(t, repo, 4)
	buildAtOnce(t, e, dirs)
	misses := map[string][]string{}
	hits := 0
	for _, ev := range mustEvents(t, e) {
		switch ev.Kind {
		case stats.Miss:
			misses[ev.Key] = append(misses[ev.Key], ev.Crate)
		case stats.Hit:
			hits++
		}
	}
	for k, c := range misses {
		if len(c) > 1 {
			t.Errorf("unit %s (%s) compiled %d times", k[:12], c[0], len(c))
		}
	}
	if want := 3 * len(misses); hits != want {
		t.Errorf("hits = %d, want %d (every unit compiled once, served 3 times)", hits, want)
	}
	for _, d := range dirs {
		if got := run(t, filepath.Join(d, "target/debug/app")); !strings.Contains(got, "names=AB") {
			t.Errorf("%s: binary prints %q", d, got)
		}
	}
}

func evsOf(evs []stats.Event, crate, kind string) []stats.Event {
	var out []stats.Event
	for _, ev := range evs {
		if ev.Crate == crate && ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}
