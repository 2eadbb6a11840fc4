package cache_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grove-rs/grove/internal/stats"
)

var libAppFiles = map[string]string{
	"Cargo.toml":   "[workspace]\nmembers = [\"l\", \"app\"]\nresolver = \"2\"\n",
	"l/Cargo.toml": "[package]\nname = \"l\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
	"l/src/lib.rs": "pub fn v() -> u32 { 1 }\n",
	"app/Cargo.toml": "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n" +
		"[dependencies]\nl = { path = \"../l\" }\n",
	"app/src/main.rs": "fn main() { println!(\"v={}\", l::v()); }\n",
}

// allHit fails the test unless every named crate hit (and ran through grove).
func allHit(t *testing.T, where string, evs []stats.Event, crates ...string) {
	t.Helper()
	for _, c := range crates {
		k := crateKinds(evs, c)
		if k == "" || strings.Contains(strings.ReplaceAll(k, c+"="+stats.Hit, ""), "=") {
			t.Errorf("%s: %s should hit: %q", where, c, k)
		}
	}
}

// Issue 7, C16: a target dir that existed before the first build has no
// CACHEDIR.TAG (Cargo writes it only when it creates the dir). Such a
// target dir, a plain dir or a symlink to a dir elsewhere, is cached: a
// second worktree hits what the first built, and the other way round.
func TestTrustPreexistingTargetDir(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		prep func(t *testing.T, wt string)
	}{
		{"mkdir", nil, func(t *testing.T, wt string) {
			if err := os.Mkdir(filepath.Join(wt, "target"), 0o755); err != nil {
				t.Fatal(err)
			}
		}},
		{"symlink", nil, func(t *testing.T, wt string) {
			if err := os.Symlink(t.TempDir(), filepath.Join(wt, "target")); err != nil {
				t.Fatal(err)
			}
		}},
		{"mkdir-explicit-target", []string{"--target", "x86_64-unknown-linux-gnu"}, func(t *testing.T, wt string) {
			if err := os.Mkdir(filepath.Join(wt, "target"), 0o755); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tw := newTwin(t, libAppFiles)
			prog := "target/debug/app"
			if len(tc.args) > 0 {
				prog = "target/x86_64-unknown-linux-gnu/debug/app"
			}
			tw.both(func(s *side) { tc.prep(t, s.wt("a")) })
			tw.step("a: first build into a target dir that already existed", func(s *side) string {
				res, evs := s.cargoEvents("a", nil, append([]string{"build"}, tc.args...)...)
				if s.grove {
					if k := crateKinds(evs, "l", "app"); k != "app=miss l=miss" {
						t.Errorf("a: want both crates cached (miss): %q", k)
					}
				}
				return res + "\n" + s.run("a", prog)
			})
			tw.step("b: build", func(s *side) string {
				res, evs := s.cargoEvents("b", nil, append([]string{"build"}, tc.args...)...)
				if s.grove {
					allHit(t, "b", evs, "l", "app")
				}
				return res + "\n" + s.run("b", prog)
			})
			// The other way round: b built in a fresh target dir; c, with a
			// pre-existing one, hits what b stored under its edit.
			tw.both(func(s *side) {
				s.write("b", map[string]string{"l/src/lib.rs": "pub fn v() -> u32 { 2 }\n"})
			})
			tw.step("b: edit l, build", func(s *side) string {
				return s.cargo("b", append([]string{"build"}, tc.args...)...) + "\n" + s.run("b", prog)
			})
			tw.both(func(s *side) {
				c := s.addWorktree("c")
				tc.prep(t, c)
				s.write("c", map[string]string{"l/src/lib.rs": "pub fn v() -> u32 { 2 }\n"})
			})
			tw.step("c: pre-existing target dir, b's code, build", func(s *side) string {
				res, evs := s.cargoEvents("c", nil, append([]string{"build"}, tc.args...)...)
				if s.grove {
					allHit(t, "c", evs, "l", "app")
				}
				return res + "\n" + s.run("c", prog)
			})
		})
	}
}

// Issue 7, C19: a corrupt lib record (the record of which libraries an
// rlib was compiled against, followed by the link closure of binaries)
// makes a binary that links the rlib uncacheable, and it heals: the next
// time any worktree compiles or restores that rlib, the record is written
// again and binaries linking it are cached again, in every worktree.
func TestTrustCorruptLibRecordHeals(t *testing.T) {
	t.Parallel()
	for _, garbage := range []string{"{}", "garbage"} {
		t.Run(garbage, func(t *testing.T) {
			tw := newTwin(t, libAppFiles)
			mainV := func(n string) map[string]string {
				return map[string]string{"app/src/main.rs": "fn main() { println!(\"v={} " + n + "\", l::v()); }\n"}
			}
			step := func(desc, wt string, want string) {
				t.Helper()
				tw.step(desc, func(s *side) string {
					res, evs := s.cargoEvents(wt, nil, "build")
					if s.grove {
						got := crateKinds(evs, "app")
						if want == "cached" && !strings.HasPrefix(got, "app=hit") && !strings.HasPrefix(got, "app=miss") ||
							want == "uncacheable" && !strings.HasPrefix(got, "app="+stats.Uncacheable) {
							t.Errorf("%s: app should be %s: %q", desc, want, got)
						}
						t.Logf("%s: %s", desc, crateKinds(evs, "l", "app"))
					}
					return res + "\n" + s.run(wt, "target/debug/app")
				})
			}
			step("a: build", "a", "cached")
			n := 0
			tw.both(func(s *side) {
				if !s.grove {
					return
				}
				recs, _ := filepath.Glob(filepath.Join(s.e.store, "objects", "lib", "*", "*"))
				for _, r := range recs {
					if err := os.WriteFile(r, []byte(garbage), 0o644); err != nil {
						t.Fatal(err)
					}
					n++
				}
			})
			if n != 1 {
				t.Fatalf("want exactly one lib record (l's rlib) in the store, found %d", n)
			}
			tw.both(func(s *side) { s.write("a", mainV("x")) })
			step("a: edit main, build with the record corrupt", "a", "uncacheable")
			// l is fresh in a: nothing compiles or restores it here, so the
			// record stays missing until some tree does.
			tw.both(func(s *side) { s.write("a", mainV("y")) })
			step("a: edit main again, l untouched", "a", "uncacheable")
			// b restores l from the store: that writes its record again.
			step("b: build (restores l)", "b", "cached")
			tw.both(func(s *side) { s.write("b", mainV("z")) })
			step("b: edit main, build", "b", "cached")
			tw.both(func(s *side) { s.write("a", mainV("w")) })
			step("a: edit main, healed here too", "a", "cached")
		})
	}
}

// Issue 7, E30: GROVE_EXTRA_FILES globs use ** for any depth. A
// proc-macro reads a nested template with std::fs (no dep-info trace);
// only GROVE_EXTRA_FILES makes it an input.
func TestTrustExtraFilesNestedGlob(t *testing.T) {
	t.Parallel()
	tw := newTwin(t, map[string]string{
		"Cargo.toml":      "[workspace]\nmembers = [\"tmpl\", \"app\"]\nresolver = \"2\"\n",
		"tmpl/Cargo.toml": "[package]\nname = \"tmpl\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[lib]\nproc-macro = true\n",
		"tmpl/src/lib.rs": `use proc_macro::TokenStream;
#[proc_macro]
pub fn template(input: TokenStream) -> TokenStream {
    let rel = input.to_string();
    let rel = rel.trim_matches('"');
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    let s = std::fs::read_to_string(format!("{dir}/{rel}")).unwrap();
    format!("{:?}", s.trim()).parse().unwrap()
}
`,
		"app/Cargo.toml": "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n" +
			"[dependencies]\ntmpl = { path = \"../tmpl\" }\n",
		"app/src/main.rs":                    "fn main() { println!(\"{}\", tmpl::template!(\"templates/pages/deep/page.html\")); }\n",
		"app/templates/pages/deep/page.html": "<p>one</p>\n",
	})
	extra := []string{"GROVE_EXTRA_FILES=templates/**/*.html"}
	build := func(s *side, wt string) string {
		return s.cargoEnv(wt, extra, "build") + "\n" + s.run(wt, "target/debug/app")
	}
	tw.step("a: build", func(s *side) string { return build(s, "a") })
	tw.both(func(s *side) {
		s.write("b", map[string]string{"app/templates/pages/deep/page.html": "<p>two</p>\n"})
	})
	tw.step("b: nested template differs, build", func(s *side) string {
		res, evs := s.cargoEvents("b", extra, "build")
		if s.grove {
			if k := crateKinds(evs, "app"); k != "app=miss" {
				t.Errorf("b: app must miss when only a nested template differs: %q", k)
			}
		}
		return res + "\n" + s.run("b", "target/debug/app")
	})
	tw.both(func(s *side) {
		s.write("b", map[string]string{"app/templates/pages/deep/page.html": "<p>one</p>\n"})
	})
	tw.step("b: same template as a, build", func(s *side) string {
		// Plain cargo does not see the template either: touch main.rs so
		// that both sides recompile app.
		s.write("b", map[string]string{"app/src/main.rs": "fn main() { println!(\"{}\", tmpl::template!(\"templates/pages/deep/page.html\")); }\n"})
		res, evs := s.cargoEvents("b", extra, "build")
		if s.grove {
			allHit(t, "b", evs, "app")
		}
		return res + "\n" + s.run("b", "target/debug/app")
	})
}
