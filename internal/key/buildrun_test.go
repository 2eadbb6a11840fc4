package key

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/grove-rs/grove/internal/filehash"
)

// runTree makes a worktree with a package "p" (its files given), a
// target dir and an empty OUT_DIR, and returns the run's environment.
func runTree(t *testing.T, root string, files map[string]string, env ...string) []string {
	t.Helper()
	for p, c := range map[string]string{"target/CACHEDIR.TAG": "x", "bin/build-script": "ELF"} {
		files[p] = c
	}
	for p, c := range files {
		full := filepath.Join(root, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(root, ".git")); err != nil {
		if out, err := exec.Command("git", "init", "-q", root).CombinedOutput(); err != nil {
			t.Fatalf("git init: %v\n%s", err, out)
		}
	}
	out := filepath.Join(root, "target/debug/build/p-1/out")
	os.MkdirAll(out, 0o755)
	return append([]string{"OUT_DIR=" + out, "CARGO_MANIFEST_DIR=" + filepath.Join(root, "p"), "PWD=" + root, "TARGET=x86_64"}, env...)
}

func runKey(t *testing.T, root string, environ []string) (*BuildRun, error) {
	t.Helper()
	return NewBuildRun(filepath.Join(root, "bin/build-script"), filepath.Join(root, "p"), environ, &filehash.Hasher{})
}

func TestBuildRunKey(t *testing.T) {
	base := t.TempDir()
	pkg := func() map[string]string { return map[string]string{"p/build.rs": "fn main(){}", "p/data/x.txt": "1"} }
	key := func(name string, files map[string]string, env ...string) string {
		t.Helper()
		root := filepath.Join(base, name)
		r, err := runKey(t, root, runTree(t, root, files, env...))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return r.ArgKey
	}
	a := key("a", pkg())
	if b := key("b", pkg(), "OLDPWD=/elsewhere", "GROVE_LOG=/x"); b != a {
		t.Error("the same run in another tree has another key")
	}
	edited := pkg()
	edited["p/data/x.txt"] = "2"
	if key("c", edited) == a {
		t.Error("an undeclared package file is not in the key")
	}
	if key("d", pkg(), "SOME_VAR=1") == a {
		t.Error("an undeclared env var is not in the key")
	}
	// A dependency's links metadata naming a dir of the target dir: its
	// content is an input.
	dep := func(name, header string) string {
		t.Helper()
		root := filepath.Join(base, name)
		files := pkg()
		files["target/debug/build/z-1/out/include/z.h"] = header
		return key(name, files, "DEP_Z_INCLUDE="+filepath.Join(root, "target/debug/build/z-1/out/include"))
	}
	if dep("e", "int z;") == dep("f", "long z;") {
		t.Error("a DEP_ include dir's content is not in the key")
	}
	if dep("g", "int z;") != dep("h", "int z;") {
		t.Error("the same DEP_ dir in another tree has another key")
	}

	// A run into a non-empty OUT_DIR is not cached.
	root := filepath.Join(base, "full")
	environ := runTree(t, root, pkg())
	os.WriteFile(filepath.Join(root, "target/debug/build/p-1/out/old"), nil, 0o644)
	var nc NotCacheable
	if _, err := runKey(t, root, environ); !errors.As(err, &nc) {
		t.Errorf("non-empty OUT_DIR: %v, want not cacheable", err)
	}
	// Neither is one in a tree whose path a script may escape.
	root = filepath.Join(base, "wt \"q\"")
	if _, err := runKey(t, root, runTree(t, root, pkg())); !errors.As(err, &nc) {
		t.Errorf("quoted path: %v, want not cacheable", err)
	}
}

func TestBuildRunOutputs(t *testing.T) {
	root := filepath.Join(t.TempDir(), "wt")
	environ := runTree(t, root, map[string]string{"p/build.rs": "", "shared/s.txt": "s"})
	r, err := runKey(t, root, environ)
	if err != nil {
		t.Fatal(err)
	}
	out := r.OutDir
	os.MkdirAll(filepath.Join(out, "sub"), 0o755)
	os.WriteFile(filepath.Join(out, "sub/gen.rs"), []byte(`pub const P: &str = "`+out+`/d";`), 0o644)
	os.WriteFile(filepath.Join(out, "plain.txt"), []byte("no path"), 0o644)
	stdout := "cargo:rustc-link-search=native=" + out + "\ncargo:rerun-if-changed=../shared/s.txt\ncargo::rerun-if-changed=" + out + "/x\n"
	outs, nOut, _, pins, err := r.Outputs(stdout, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(pins) != 0 {
		t.Errorf("pins %v, want none", pins)
	}
	if strings.Contains(nOut, root) || !strings.Contains(nOut, Target+"/debug/build/p-1/out") {
		t.Errorf("stdout not normalized: %q", nOut)
	}
	got := map[string]RunOutput{}
	for _, o := range outs {
		got[o.Rel] = o
	}
	if g := got["sub/gen.rs"]; !g.Text || strings.Contains(string(g.Data), root) {
		t.Errorf("gen.rs: %+v", g)
	}
	if p := got["plain.txt"]; p.Text || p.Data != nil {
		t.Errorf("plain.txt stored as text: %+v", p)
	}
	if !got["sub"].Dir {
		t.Error("sub is not a dir")
	}
	in, err := r.Inputs(stdout)
	if err != nil || len(in) != 1 || in[0].Path != Cwd+"/shared/s.txt" {
		t.Errorf("inputs %+v, %v; want ../shared/s.txt only (OUT_DIR's are outputs)", in, err)
	}

	if pins := r.InputPins(in); pins != nil {
		t.Errorf("inputs in the tree pin: %v", pins)
	}
	// A declared file outside every root (another worktree's git dir):
	// checking it says nothing about this tree's own.
	outside := filepath.Join(filepath.Dir(root), "gitdir-of-wt", "HEAD")
	in, _ = r.Inputs("cargo:rerun-if-changed=" + outside + "\n")
	if pins := r.InputPins(in); pins[Cwd] != root || pins[Target] == "" {
		t.Errorf("input outside the tree: pins %v, want the tree's", pins)
	}

	// A binary naming OUT_DIR pins; so does a text naming it inside a
	// longer name, which no placeholder replaces.
	os.WriteFile(filepath.Join(out, "blob.bin"), append([]byte{0xff, 0}, out...), 0o644)
	if _, _, _, pins, _ := r.Outputs("", ""); pins[Target] != filepath.Join(root, "target") {
		t.Errorf("binary output: pins %v, want the target dir", pins)
	}
	os.Remove(filepath.Join(out, "blob.bin"))
	if _, _, _, pins, _ := r.Outputs("see "+root+"2/x\n", ""); pins[Cwd] != root {
		t.Errorf("residue: pins %v, want the worktree", pins)
	}
	os.Symlink("sub", filepath.Join(out, "link"))
	var nc NotCacheable
	if _, _, _, _, err := r.Outputs("", ""); !errors.As(err, &nc) {
		t.Errorf("symlink in OUT_DIR: %v, want not cacheable", err)
	}
}

// What a run is handed that names other things than its package: each
// input changed between two otherwise equal trees must change the key,
// and the same input in two trees must not.
func TestBuildRunKeyHandedInputs(t *testing.T) {
	base := t.TempDir()
	tools := filepath.Join(base, "tools")
	// tool writes a program at a fixed path outside every tree (a
	// toolchain updated in place keeps its path).
	tool := func(name, body string) string {
		p := filepath.Join(tools, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// rustc is a toolchain binary: ../lib/rustlib beside it, answering
	// -vV and --print sysroot.
	rustc := func(version string) string {
		sysroot := filepath.Join(tools, "tc")
		if err := os.MkdirAll(filepath.Join(sysroot, "lib/rustlib/x86_64/lib"), 0o755); err != nil {
			t.Fatal(err)
		}
		std := filepath.Join(sysroot, "lib/rustlib/x86_64/lib/libstd.rlib")
		if _, err := os.Stat(std); err != nil {
			os.WriteFile(std, []byte("std"), 0o644) // once: the sysroot is keyed by mtime
		}
		return tool("tc/bin/rustc", `if [ "$1" = -vV ]; then echo "rustc `+version+`"; else echo `+sysroot+`; fi`)
	}
	cases := []struct {
		name string
		// setup writes the tree's files for variant v and returns env.
		setup func(root, v string) (files map[string]string, env []string)
	}{
		{"links metadata dir in the target dir", func(root, v string) (map[string]string, []string) {
			return map[string]string{"target/debug/build/z-1/out/include/z.h": v},
				[]string{"DEP_Z_INCLUDE=" + filepath.Join(root, "target/debug/build/z-1/out/include")}
		}},
		{"links metadata dir in a path dependency's sources", func(root, v string) (map[string]string, []string) {
			return map[string]string{"z/include/z.h": v, "z/Cargo.toml": "[package]"},
				[]string{"DEP_Z_INCLUDE=" + filepath.Join(root, "z/include")}
		}},
		{"links metadata naming a path dependency's root", func(root, v string) (map[string]string, []string) {
			return map[string]string{"z/src/z.c": v, "z/target/CACHEDIR.TAG": "x", "z/target/debug/x": root},
				[]string{"DEP_Z_ROOT=" + filepath.Join(root, "z")}
		}},
		{"artifact dependency's binary", func(root, v string) (map[string]string, []string) {
			return map[string]string{"target/debug/deps/artifact/t-1/bin/t": v},
				[]string{"CARGO_BIN_FILE_T=" + filepath.Join(root, "target/debug/deps/artifact/t-1/bin/t")}
		}},
		{"rustc updated in place", func(root, v string) (map[string]string, []string) {
			return map[string]string{}, []string{"RUSTC=" + rustc(v)}
		}},
		{"rustdoc updated in place", func(root, v string) (map[string]string, []string) {
			return map[string]string{}, []string{"RUSTDOC=" + tool("rustdoc", "echo "+v)}
		}},
		{"cargo updated in place", func(root, v string) (map[string]string, []string) {
			return map[string]string{}, []string{"CARGO=" + tool("cargo", "echo "+v)}
		}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			key := func(tree, v string) string {
				t.Helper()
				root := filepath.Join(base, strconv.Itoa(i), tree)
				files, env := c.setup(root, v)
				files["p/build.rs"] = "fn main(){}"
				r, err := runKey(t, root, runTree(t, root, files, env...))
				if err != nil {
					t.Fatal(err)
				}
				return r.ArgKey
			}
			a := key("a", "1")
			if b := key("b", "1"); b != a {
				t.Error("the same input in another tree gives another key")
			}
			if c := key("c", "2"); c == a {
				t.Error("a changed input gives the same key")
			}
		})
	}
}

// A git submodule in the package is part of it (vendored C sources); a
// worktree or repository nested in it is not.
func TestBuildRunKeySubmodule(t *testing.T) {
	base := t.TempDir()
	key := func(name string, files map[string]string) string {
		t.Helper()
		root := filepath.Join(base, name)
		files["p/build.rs"] = "fn main(){}"
		r, err := runKey(t, root, runTree(t, root, files))
		if err != nil {
			t.Fatal(err)
		}
		return r.ArgKey
	}
	sub := func(v string) map[string]string {
		return map[string]string{"p/vendor/.git": "gitdir: ../../.git/modules/vendor\n", "p/vendor/lib.c": v}
	}
	if key("a", sub("int x;")) == key("b", sub("long x;")) {
		t.Error("a submodule's files are not in the key")
	}
	nested := func(v string) map[string]string {
		return map[string]string{"p/wt2/.git": "gitdir: /repo/.git/worktrees/wt2\n", "p/wt2/f": v}
	}
	if key("c", nested("1")) != key("d", nested("2")) {
		t.Error("a worktree nested in the package is in the key")
	}
}
