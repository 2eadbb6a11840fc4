package cache_test

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/grove-rs/grove/internal/stats"
)

// Issue 10, part 4: a Cargo workspace in a subdirectory of the repository
// (rust/, next to code in other languages). grove init from the repository
// root, builds inside rust/, grove seed in a new worktree from its top and
// from inside its rust/: the results are plain cargo's, the second worktree
// is served from the store, and status sees each worktree's rust/target.
func TestSubdirWorkspace(t *testing.T) {
	t.Parallel()
	files := map[string]string{"README.md": "not only Rust\n", ".gitignore": "target/\n"}
	for p, c := range twoCrates() {
		if p != ".gitignore" {
			files["rust/"+p] = c
		}
	}
	tw := newTwin(t, files)
	tw.both(func(s *side) {
		s.alias("a/rust", "a", "rust")
		s.alias("b/rust", "b", "rust")
	})
	tw.step("a: grove init at the root", func(s *side) string { return s.groveCLI("a", "init") })
	tw.step("a/rust: build", func(s *side) string { return s.cargo("a/rust", "build") + "\n" + s.run("a/rust", "target/debug/app") })
	tw.step("b: grove seed at the worktree's top", func(s *side) string { return s.groveCLI("b", "seed", "--dry-run") })
	tw.step("b/rust: grove seed", func(s *side) string { return s.groveCLI("b/rust", "seed") })
	n := len(tw.grove.events())
	tw.step("b/rust: build", func(s *side) string { return s.cargo("b/rust", "build") + "\n" + s.run("b/rust", "target/debug/app") })
	for _, e := range tw.grove.events()[n:] {
		if e.Kind != stats.Hit {
			t.Errorf("b/rust: %s %s %s, want a hit", e.Kind, e.Crate, e.Reason)
		}
	}
	tw.step("b/rust: test", func(s *side) string { return s.test("b/rust") })

	for _, dir := range []string{"a", "b/rust"} {
		out, all, err := tw.grove.groveOut(dir, "status", "--json")
		if err != nil {
			t.Fatalf("grove status in %s: %v\n%s", dir, err, all)
		}
		var st struct {
			Worktrees []struct {
				Path      string `json:"path"`
				TargetDir string `json:"target_dir"`
			} `json:"worktrees"`
		}
		if err := json.Unmarshal([]byte(out), &st); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		for _, w := range st.Worktrees {
			if want := filepath.Join(w.Path, "rust", "target"); w.TargetDir != want {
				t.Errorf("status in %s: worktree %s: target dir %q, want %q", dir, w.Path, w.TargetDir, want)
			}
		}
	}
}
