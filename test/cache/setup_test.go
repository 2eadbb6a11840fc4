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
	// .cargo/ (init and off work on the repository root, worktree a).
	tw.both(func(s *side) {
		s.write("a", map[string]string{".cargo/config.toml": "[build]\nrustc-wrapper = \"mywrap\"\n"})
		os.Remove(filepath.Join(s.wt("a"), ".cargo", "notes.txt"))
		os.Remove(filepath.Join(s.wt("a"), "wrapped.log"))
	})
	tw.step("b: grove init", func(s *side) string { return s.groveCLI("b", "init") })
	tw.step("b: grove off", func(s *side) string { return s.groveCLI("b", "off") })
	tw.step("a: .cargo after init and off", func(s *side) string { return s.tree("a", ".cargo") })
	tw.step("a: build by config", func(s *side) string {
		return s.cargoByConfig("a", extra, "build", "--release") + "\n" + s.run("a", "target/release/app") + "\n" + wrappedLog(s, "a")
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
