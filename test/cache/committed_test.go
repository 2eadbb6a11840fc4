package cache_test

import (
	"encoding/json"
	"path/filepath"
	"testing"
)

// Issue 10, part 3: shared mode in a repository that commits its
// .cargo/config.toml. grove init --shared --all must not change anything
// committed, must cover the worktrees under the root and beside it, and
// every worktree must still build and run its own code, as with plain
// cargo. grove off then leaves the repository as plain cargo has it.
func TestSharedModeCommittedConfig(t *testing.T) {
	t.Parallel()
	files := twoCrates()
	files[".cargo/config.toml"] = "# the team's settings\n[alias]\nxb = \"build\"\n\n[env]\nGREETING = \"hello\"\n"
	files["app/src/main.rs"] = "fn main() { println!(\"v={} {}\", l::v(), env!(\"GREETING\")); }\n"
	tw := newTwin(t, files)
	tw.both(func(s *side) {
		s.git("a", "worktree", "add", "-q", "worktrees/c")
		s.alias("c", "a", "worktrees/c")
	})
	tw.step("a: grove init --shared --all", func(s *side) string { return s.groveCLI("a", "init", "--shared", "--all") })
	if out, all, err := tw.grove.groveOut("a", "status", "--json"); err != nil {
		t.Fatalf("grove status: %v\n%s", err, all)
	} else {
		var st struct {
			Mode      string `json:"mode"`
			SharedDir string `json:"shared_dir"`
			Worktrees []struct {
				Path      string `json:"path"`
				TargetDir string `json:"target_dir"`
				Shared    bool   `json:"shared"`
			} `json:"worktrees"`
		}
		if err := json.Unmarshal([]byte(out), &st); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if want := filepath.Join(tw.grove.wt("a"), "target"); st.Mode != "shared" || st.SharedDir != want {
			t.Errorf("status: mode %s, shared dir %s; want shared, %s", st.Mode, st.SharedDir, want)
		}
		for _, w := range st.Worktrees {
			if !w.Shared {
				t.Errorf("worktree %s builds into %s, not the shared dir", w.Path, w.TargetDir)
			}
		}
	}
	if _, all, err := tw.grove.groveOut("c", "doctor"); err != nil {
		t.Errorf("grove doctor in c: %v\n%s", err, all)
	}
	for _, wt := range []string{"a", "b", "c"} {
		tw.step(wt+": nothing committed changed", func(s *side) string { return s.git(wt, "status", "--porcelain") })
	}
	tw.step("a: build", func(s *side) string { return s.cargo("a", "xb") + "\n" + s.run("a", "target/debug/app") })
	// Same sources in every worktree: an edit in one would meet shared
	// mode's stated caveat (an older worktree is served the newer
	// artifacts of the workspace crates), which is not what this tests.
	tw.step("b: build", func(s *side) string { return s.cargo("b", "xb") })
	tw.step("c: build", func(s *side) string { return s.cargo("c", "xb") })
	tw.step("b: test", func(s *side) string { return s.test("b") })
	tw.step("c: test", func(s *side) string { return s.test("c") })
	tw.step("a: run after b and c built", func(s *side) string { return s.cargo("a", "run", "-q") })

	tw.step("a: grove off", func(s *side) string { return s.groveCLI("a", "off") })
	tw.step("a: .cargo after off", func(s *side) string { return s.tree("a", ".cargo") })
	tw.step("a: worktrees/.cargo after off", func(s *side) string { return s.tree("a", "worktrees/.cargo") })
	tw.step("b: build after off", func(s *side) string { return s.cargo("b", "build") + "\n" + s.run("b", "target/debug/app") })
}
