package cache_test

import (
	"fmt"
	"slices"
	"testing"
)

// Release builds with LTO: Cargo compiles every dependency of the LTO
// binary with `-C linker-plugin-lto` (an rlib of LLVM bitcode) and the
// binary with `-C lto` (`lto = "thin"` differs only in the binary's
// `-C lto=thin`, see rustc.TestParse; one variant keeps the test short). The libraries and the binary are
// cached, and the program gives what plain cargo's gives in both worktrees,
// also after a library changes.
func TestLTOIsCached(t *testing.T) {
	t.Parallel()
	for _, lto := range []string{"true"} {
		t.Run(lto, func(t *testing.T) {
			t.Parallel()
			tw := newTwin(t, map[string]string{
				"Cargo.toml": "[workspace]\nresolver = \"2\"\nmembers = [\"util\", \"app\"]\n\n" +
					"[profile.release]\nlto = " + lto + "\n",
				"util/Cargo.toml": "[package]\nname = \"util\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
				"util/src/lib.rs": "pub fn v() -> u32 { 41 }\n",
				"app/Cargo.toml": "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n" +
					"[dependencies]\nutil = { path = \"../util\" }\n",
				"app/src/main.rs": "fn main() { println!(\"{}\", util::v() + 1); }\n",
			})
			for _, wt := range []string{"a", "b"} {
				tw.step(wt+": cargo build --release", func(s *side) string {
					return s.cargo(wt, "build", "--release") + "\n" + s.run(wt, "target/release/app")
				})
			}
			var got []string
			for _, ev := range mustEvents(t, tw.grove.e) {
				if ev.Crate == "util" || ev.Crate == "app" {
					got = append(got, fmt.Sprintf("%s %s", ev.Crate, ev.Kind))
				}
			}
			if want := []string{"util miss", "app miss", "util hit", "app hit"}; !slices.Equal(got, want) {
				t.Errorf("events %v, want %v", got, want)
			}
			tw.both(func(s *side) { s.write("b", map[string]string{"util/src/lib.rs": "pub fn v() -> u32 { 1 }\n"}) })
			tw.step("b: rebuild after util changed", func(s *side) string {
				return s.cargo("b", "build", "--release") + "\n" + s.run("b", "target/release/app")
			})
		})
	}
}
