package cache_test

import (
	"slices"
	"testing"
)

// Tests and benches with `harness = false` (criterion benches, custom
// harnesses) get no --crate-type from Cargo. They are cached like binaries,
// and give what plain cargo gives in both worktrees.
func TestHarnessFalseIsCached(t *testing.T) {
	t.Parallel()
	tw := newTwin(t, map[string]string{
		"Cargo.toml": "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n" +
			"[[test]]\nname = \"custom\"\nharness = false\n",
		"src/lib.rs":      "pub fn v() -> u32 { 1 }\n",
		"tests/custom.rs": "fn main() { assert_eq!(app::v(), 1); println!(\"custom ok\"); }\n",
	})
	tw.step("a: cargo test", func(s *side) string { return s.cargo("a", "test") })
	tw.step("b: cargo test", func(s *side) string { return s.cargo("b", "test") })
	evs := mustEvents(t, tw.grove.e)
	var custom []string
	for _, ev := range evs {
		if ev.Crate == "custom" {
			custom = append(custom, ev.Kind)
		}
	}
	if !slices.Equal(custom, []string{"miss", "hit"}) {
		t.Errorf("harness = false test: events %v, want a miss in a and a hit in b", custom)
	}
	tw.both(func(s *side) { s.write("b", map[string]string{"src/lib.rs": "pub fn v() -> u32 { 2 }\n"}) })
	tw.step("b: cargo test after the library changed", func(s *side) string { return s.cargo("b", "test") })
}
