package cache_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Issue 9: a lookup decides a candidate's sources from one memo of the
// whole set, keyed by every file's stat identity (key/inputmemo.go). A
// dependency whose sources no worktree owns (like a registry crate, here a
// path dependency beside the worktrees) is edited in place with its size
// and mtime put back: a new worktree must compile the new source, as plain
// cargo does, not hit the set memoized before the edit.
func TestTrustSharedSourceEditedInPlace(t *testing.T) {
	tw := newTwin(t, map[string]string{
		"Cargo.toml": "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n" +
			"[dependencies]\nl = { path = \"../dep\" }\n",
		"src/main.rs": "fn main() { println!(\"v={}\", l::V); }\n",
	})
	old := time.Now().Add(-time.Hour)
	lib := func(s *side) string { return filepath.Join(s.root, "dep", "src", "lib.rs") }
	writeOld := func(s *side, p, content string) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	tw.both(func(s *side) {
		writeOld(s, filepath.Join(s.root, "dep", "Cargo.toml"), "[package]\nname = \"l\"\nversion = \"0.1.0\"\nedition = \"2021\"\n")
		writeOld(s, lib(s), "pub const V: &str = \"one\";\n")
	})
	// Out of the racy window, so the set is memoized.
	time.Sleep(2100 * time.Millisecond)
	tw.step("a: build", func(s *side) string {
		return s.cargo("a", "build") + "\n" + s.run("a", "target/debug/app")
	})
	tw.step("b: build", func(s *side) string {
		res, evs := s.cargoEvents("b", nil, "build")
		if s.grove {
			allHit(t, "b", evs, "l")
		}
		return res + "\n" + s.run("b", "target/debug/app")
	})
	tw.both(func(s *side) { writeOld(s, lib(s), "pub const V: &str = \"two\";\n") })
	time.Sleep(2100 * time.Millisecond)
	tw.both(func(s *side) { s.addWorktree("c") })
	tw.step("c: new worktree after the in-place edit", func(s *side) string {
		res, evs := s.cargoEvents("c", nil, "build")
		if s.grove {
			if k := crateKinds(evs, "l"); k != "l=miss" {
				t.Errorf("c: l should miss: %q", k)
			}
		}
		return res + "\n" + s.run("c", "target/debug/app")
	})
}
