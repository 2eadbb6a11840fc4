package cache_test

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// File modes follow the umask (umask.Mode): with umask 002 (Debian's and
// Ubuntu's default for users with their own group) plain cargo's programs,
// test binaries, dep-info and OUT_DIR files are group-writable. A restore
// wrote them 0755/0644 whatever the umask. Files hard-linked to the store
// (rlib, rmeta, proc-macro libraries, build scripts' programs) keep the
// store's modes: one inode cannot have two; only rustc and Cargo read them
// (README, Limits).
func TestTrustModesFollowTheUmask(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"Cargo.toml":   "[workspace]\nmembers = [\"l\", \"app\"]\nresolver = \"2\"\n",
		"l/Cargo.toml": "[package]\nname = \"l\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
		"l/build.rs": `fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let out = std::env::var("OUT_DIR").unwrap();
    std::fs::write(format!("{out}/gen.rs"), "pub fn v() -> u32 { 1 }").unwrap();
}
`,
		"l/src/lib.rs": "include!(concat!(env!(\"OUT_DIR\"), \"/gen.rs\"));\n#[test] fn t() { assert_eq!(v(), 1); }\n",
		"app/Cargo.toml": "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n" +
			"[dependencies]\nl = { path = \"../l\" }\n",
		"app/src/main.rs": "fn main() { println!(\"v={}\", l::v()); }\n",
	}
	cargo, err := exec.LookPath("cargo")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"002", "077"} {
		t.Run(u, func(t *testing.T) {
			t.Parallel()
			// cargo under the umask, through a shim.
			shim := t.TempDir()
			script := "#!/bin/sh\numask " + u + "\nexec " + shellQuoteTest(cargo) + " \"$@\"\n"
			if err := os.WriteFile(filepath.Join(shim, "cargo"), []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			extra := []string{"GROVE_CACHE_BUILD_SCRIPTS=1"}
			tw := newTwin(t, files)
			tw.both(func(s *side) { s.cargoProg = filepath.Join(shim, "cargo") })
			for _, wt := range []string{"a", "b"} {
				tw.step(wt+": build, test", func(s *side) string {
					return s.cargoEnv(wt, extra, "build") + " " + s.cargoEnv(wt, extra, "test", "--no-run") + "\n" + s.run(wt, "target/debug/app")
				})
				tw.step(wt+": modes of the files users and tools read", func(s *side) string { return modes(t, s.wt(wt)) })
			}
		})
	}
}

var hashInName = regexp.MustCompile(`-[0-9a-f]{16}`)

// modes lists "mode path" for the files of target/debug that a user or a
// tool reads: not the incremental state and fingerprints (Cargo's), not
// grove's own files, not the kinds grove shares with the store by hard link.
func modes(t *testing.T, wt string) string {
	t.Helper()
	root := filepath.Join(wt, "target", "debug")
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			if rel == "incremental" || rel == ".fingerprint" {
				return filepath.SkipDir
			}
			return nil
		}
		base := d.Name()
		switch {
		case strings.Contains(base, "grove"),
			strings.HasSuffix(base, ".rlib"), strings.HasSuffix(base, ".rmeta"), strings.HasSuffix(base, ".so"),
			strings.HasPrefix(base, "build_script_build-") && !strings.HasSuffix(base, ".d"),
			base == ".cargo-lock", base == "invoked.timestamp":
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		out = append(out, fmt.Sprintf("%v %s", fi.Mode().Perm(), hashInName.ReplaceAllString(rel, "")))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

func shellQuoteTest(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
