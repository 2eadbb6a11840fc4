package cache_test

import "testing"

// Issue 7, A1: an integration test runs its package's binary through
// env!("CARGO_BIN_EXE_app"), which names this tree's target dir. A test
// binary served from another worktree would run that worktree's program.
func TestTrustBinExeInIntegrationTest(t *testing.T) {
	t.Parallel()
	tw := newTwin(t, map[string]string{
		"Cargo.toml":  "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
		"src/main.rs": "fn main() { println!(\"v1\"); }\n",
		"tests/it.rs": `#[test]
fn prints_v1() {
    let exe = env!("CARGO_BIN_EXE_app");
    let out = std::process::Command::new(exe).output().unwrap();
    let out = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.trim(), "v1", "exe={exe} out={out}");
}
`,
	})
	tw.step("a: cargo test", func(s *side) string { return s.test("a") })
	tw.both(func(s *side) { s.write("b", map[string]string{"src/main.rs": "fn main() { println!(\"v2\"); }\n"}) })
	tw.step("b: cargo test after main prints v2", func(s *side) string { return s.test("b") })
	tw.both(func(s *side) { s.cargo("a", "clean") })
	tw.step("b: cargo test after a is cleaned", func(s *side) string { return s.test("b") })
}
