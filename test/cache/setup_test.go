package cache_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 7, C20: `grove init` replaces a user's rustc-wrapper (sccache, or
// any wrapper) and `grove off` must put it back: afterwards the repository
// and its builds are as if grove had never been set up. Before the fix, off
// deleted the whole .cargo/ dir.
func TestSetupOffRestoresReplacedWrapper(t *testing.T) {
	t.Parallel()
	path := pathScript(t, "mywrap", `echo "$CARGO_PKG_NAME" >> "$CARGO_MANIFEST_DIR/../wrapped.log"
exec "$@"
`)
	extra := []string{"PATH=" + path}
	files := twoCrates()
	files[".cargo/config.toml"] = "# the team's wrapper\n[build]\nrustc-wrapper = \"mywrap\"  # logs\n"
	files[".cargo/notes.txt"] = "other file\n"
	tw := newTwin(t, files)
	tw.step("a: grove init", func(s *side) string { return s.groveCLI("a", "init") })
	tw.step("a: grove off", func(s *side) string { return s.groveCLI("a", "off") })
	tw.step("a: .cargo after init and off", func(s *side) string { return s.tree("a", ".cargo") })
	tw.step("a: git status", func(s *side) string { return s.git("a", "status", "--porcelain") })
	tw.step("a: build by config", func(s *side) string {
		return s.cargoByConfig("a", extra, "build") + "\n" + s.run("a", "target/debug/app") + "\n" + wrappedLog(s, "a")
	})

	// A config that held only the user's wrapper, and nothing else in
	// .cargo/, in a linked worktree: init and off there edit its own
	// config (setup.Repo.CacheConfigPath), not the main worktree's.
	tw.both(func(s *side) {
		s.write("b", map[string]string{".cargo/config.toml": "[build]\nrustc-wrapper = \"mywrap\"\n"})
		os.Remove(filepath.Join(s.wt("b"), ".cargo", "notes.txt"))
		os.Remove(filepath.Join(s.wt("b"), "wrapped.log"))
	})
	tw.step("b: grove init", func(s *side) string { return s.groveCLI("b", "init") })
	bConfig := func(s *side) string {
		b, _ := os.ReadFile(filepath.Join(s.wt("b"), ".cargo", "config.toml"))
		return string(b)
	}
	if got := bConfig(tw.grove); !strings.Contains(got, `rustc-wrapper = "grove"`) {
		t.Errorf("grove init in worktree b left its config:\n%s", got)
	}
	tw.step("b: grove off", func(s *side) string { return s.groveCLI("b", "off") })
	tw.step("b: .cargo after init and off", func(s *side) string { return s.tree("b", ".cargo") })
	tw.both(func(s *side) {
		if got := bConfig(s); got != "[build]\nrustc-wrapper = \"mywrap\"\n" {
			t.Errorf("grove off in worktree b did not restore its config:\n%s", got)
		}
	})
	tw.step("a: .cargo untouched", func(s *side) string { return s.tree("a", ".cargo") })
	tw.step("b: build by config", func(s *side) string {
		return s.cargoByConfig("b", extra, "build", "--release") + "\n" + s.run("b", "target/release/app") + "\n" + wrappedLog(s, "b")
	})
}

// Issue 7, C20, shared mode: init --shared replaces a user's target-dir in
// an untracked config; off puts it back, and the next build goes there.
func TestSetupOffRestoresReplacedTargetDir(t *testing.T) {
	t.Parallel()
	files := twoCrates()
	files[".gitignore"] = "target/\nmytarget/\n.cargo/\n"
	tw := newTwin(t, files)
	tw.both(func(s *side) {
		s.write("a", map[string]string{".cargo/config.toml": "[build]\ntarget-dir = \"mytarget\"\n"})
	})
	tw.step("a: grove init --shared", func(s *side) string { return s.groveCLI("a", "init", "--shared") })
	tw.step("a: grove off", func(s *side) string { return s.groveCLI("a", "off") })
	tw.step("a: .cargo after init and off", func(s *side) string { return s.tree("a", ".cargo") })
	tw.step("a: build by config", func(s *side) string {
		return s.cargoByConfig("a", nil, "build") + "\n" + s.run("a", "mytarget/debug/app")
	})
	// off leaves .shared-target/ in .gitignore, as documented.
	tw.step("a: nothing else changed", func(s *side) string {
		return strings.TrimSpace(s.git("a", "status", "--porcelain", "--ignored", "--", ".", ":!.gitignore"))
	})
}
