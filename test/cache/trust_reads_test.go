package cache_test

import (
	"testing"
)

// readsFixture is a workspace whose proc-macro reads files dep-info never
// lists: a template relative to CARGO_MANIFEST_DIR (std::fs, not
// include_str!), a file in the workspace root outside the package, and
// a directory's listing (read_dir, as include_dir!-style macros walk one).
var readsFixture = map[string]string{
	"Cargo.toml":      "[workspace]\nmembers = [\"tmpl\", \"app\"]\nresolver = \"2\"\n",
	"shared.txt":      "shared one\n",
	"tmpl/Cargo.toml": "[package]\nname = \"tmpl\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[lib]\nproc-macro = true\n",
	"tmpl/src/lib.rs": `use proc_macro::TokenStream;

fn arg(input: TokenStream) -> String {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    format!("{dir}/{}", input.to_string().trim_matches('"'))
}

/// The text of a file, relative to the manifest dir.
#[proc_macro]
pub fn text(input: TokenStream) -> TokenStream {
    let s = std::fs::read_to_string(arg(input)).unwrap();
    format!("{:?}", s.trim()).parse().unwrap()
}

/// The names in a dir, relative to the manifest dir, sorted.
#[proc_macro]
pub fn listing(input: TokenStream) -> TokenStream {
    let mut names: Vec<String> = std::fs::read_dir(arg(input)).unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    format!("{:?}", names.join(",")).parse().unwrap()
}
`,
	"app/Cargo.toml": "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n" +
		"[dependencies]\ntmpl = { path = \"../tmpl\" }\n",
	"app/src/main.rs": `fn main() {
    println!("template: {}", tmpl::text!("templates/x.txt"));
    println!("shared: {}", tmpl::text!("../shared.txt"));
    println!("parts: {}", tmpl::listing!("parts"));
}
`,
	"app/templates/x.txt": "v1\n",
	"app/parts/one":       "1\n",
}

// TestTrustUndeclaredReads: a proc-macro's reads that dep-info never
// lists are inputs. Worktree a builds; then a fresh worktree (same
// sources, another branch) differs in one such input at a time (the
// package's template, a file in the workspace root, a listed dir gaining
// a file): plain cargo there embeds its own, and so must grove, from the
// store a filled. A fresh worktree that differs in none of them hits.
func TestTrustUndeclaredReads(t *testing.T) {
	t.Parallel()
	tw := newTwin(t, readsFixture)
	build := func(s *side, wt string) string {
		return s.cargo(wt, "build") + "\n" + s.run(wt, "target/debug/app")
	}
	tw.step("a: build", func(s *side) string { return build(s, "a") })
	cases := []struct {
		wt    string
		files map[string]string
	}{
		{"b", map[string]string{"app/templates/x.txt": "v2\n"}},
		{"c", map[string]string{"shared.txt": "shared two\n"}},
		{"d", map[string]string{"app/parts/two": "2\n"}},
	}
	for _, c := range cases {
		tw.both(func(s *side) {
			if c.wt != "b" {
				s.addWorktree(c.wt)
			}
			s.write(c.wt, c.files)
			s.git(c.wt, "checkout", "-q", "-b", "br-"+c.wt)
			s.git(c.wt, "add", "-A")
			s.git(c.wt, "commit", "-q", "-m", "differs")
		})
		tw.step(c.wt+": differs in an undeclared read, fresh build", func(s *side) string {
			res, evs := s.cargoEvents(c.wt, nil, "build")
			if s.grove {
				if k := crateKinds(evs, "app"); k != "app=miss" {
					t.Errorf("%s: app must miss: %q", c.wt, k)
				}
			}
			return res + "\n" + s.run(c.wt, "target/debug/app")
		})
	}
	tw.both(func(s *side) { s.addWorktree("e") })
	tw.step("e: same as a, fresh build", func(s *side) string {
		res, evs := s.cargoEvents("e", nil, "build")
		if s.grove {
			allHit(t, "e", evs, "app", "tmpl")
		}
		return res + "\n" + s.run("e", "target/debug/app")
	})
	// Seeding (package seed) copies a member's unit only when the new
	// tree could not tell it from its own build: the template counts.
	tw.both(func(s *side) {
		s.addWorktree("f")
		s.write("f", map[string]string{"app/templates/x.txt": "v3\n"})
	})
	tw.step("f: template differs, seeded, build", func(s *side) string {
		if s.grove {
			if out := s.seed("f"); out != "ok" {
				t.Errorf("f: %s", out)
			}
		}
		res, evs := s.cargoEvents("f", nil, "build")
		if s.grove {
			if k := crateKinds(evs, "app", "tmpl"); k != "app=miss" {
				t.Errorf("f: tmpl must be seeded, app compiled: %q", k)
			}
		}
		return res + "\n" + s.run("f", "target/debug/app")
	})
}
