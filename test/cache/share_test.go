package cache_test

import (
	"os"
	"path/filepath"
	"testing"
)

// A proc-macro's shared library is shared by every worktree through the
// store (a hardlink on ext4) instead of copied into each, while Cargo in
// both worktrees sees every unit fresh and an edit of the macro in one
// worktree stays there.
func TestProcMacroIsShared(t *testing.T) {
	t.Parallel()
	tw := newTwin(t, map[string]string{
		"Cargo.toml":    "[workspace]\nresolver = \"2\"\nmembers = [\"pm\", \"app\"]\n",
		"pm/Cargo.toml": "[package]\nname = \"pm\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[lib]\nproc-macro = true\n",
		"pm/src/lib.rs": "use proc_macro::TokenStream;\n#[proc_macro]\npub fn answer(_: TokenStream) -> TokenStream { \"41\".parse().unwrap() }\n",
		"app/Cargo.toml": "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n" +
			"[dependencies]\npm = { path = \"../pm\" }\n",
		"app/src/main.rs": "fn main() { println!(\"{}\", pm::answer!() + 1); }\n",
	})
	for _, wt := range []string{"a", "b"} {
		tw.step(wt+": build", func(s *side) string { return s.cargo(wt, "build") + "\n" + s.run(wt, "target/debug/app") })
	}
	so := func(wt string) os.FileInfo {
		m, _ := filepath.Glob(filepath.Join(tw.grove.wt(wt), "target/debug/deps/libpm-*.so"))
		if len(m) != 1 {
			t.Fatalf("%s: proc-macro libraries %v, want one", wt, m)
		}
		fi, err := os.Stat(m[0])
		if err != nil {
			t.Fatal(err)
		}
		return fi
	}
	if !os.SameFile(so("a"), so("b")) {
		t.Errorf("b's proc-macro library is a copy, want the one file a's shares with the store")
	}
	tw.step("b: build again", func(s *side) string { return compiledUnits(s, "b") })
	tw.step("a: build after b", func(s *side) string { return compiledUnits(s, "a") })

	tw.both(func(s *side) {
		s.write("b", map[string]string{"pm/src/lib.rs": "use proc_macro::TokenStream;\n#[proc_macro]\npub fn answer(_: TokenStream) -> TokenStream { \"1\".parse().unwrap() }\n"})
	})
	tw.step("b: build after the macro changed", func(s *side) string {
		return s.cargo("b", "build") + "\n" + s.run("b", "target/debug/app")
	})
	tw.step("a: still a no-op, and a's program unchanged", func(s *side) string {
		return compiledUnits(s, "a") + "\n" + s.run("a", "target/debug/app")
	})
}
