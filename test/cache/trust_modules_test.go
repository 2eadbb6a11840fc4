package cache_test

import "testing"

// Issue 7, C18: with both src/m.rs and src/m/mod.rs present rustc fails
// (E0761). A unit stored from a tree with only one of them must not be
// served to a tree that has both: the absence of the other file decided
// the compile.
func TestTrustAmbiguousModuleFails(t *testing.T) {
	t.Parallel()
	tw := newTwin(t, map[string]string{
		"Cargo.toml":  "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
		"src/main.rs": "mod m;\nfn main() { println!(\"{}\", m::v()); }\n",
		"src/m.rs":    "pub fn v() -> u32 { 1 }\n",
	})
	tw.step("a: build", func(s *side) string { return s.cargo("a", "build") })
	tw.both(func(s *side) { s.write("b", map[string]string{"src/m/mod.rs": "pub fn v() -> u32 { 2 }\n"}) })
	tw.step("b: build with m.rs and m/mod.rs", func(s *side) string { return s.cargo("b", "build") })
	tw.both(func(s *side) { s.git("b", "rm", "-q", "src/m.rs") })
	tw.step("b: build with m/mod.rs only", func(s *side) string { return s.cargo("b", "build") })
	tw.step("b: run", func(s *side) string { return s.run("b", "target/debug/app") })
}
