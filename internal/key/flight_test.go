package key

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/grove-rs/grove/internal/filehash"
	"github.com/grove-rs/grove/internal/record"
	"github.com/grove-rs/grove/internal/rustc"
)

// flightTree is one worktree as the flight key sees it.
type flightTree struct {
	files map[string]string // relative path → content
	input string            // crate root, relative to the tree
	arg   string            // argument key
}

func baseTree() flightTree {
	return flightTree{
		files: map[string]string{
			"Cargo.toml":                         "[package]\nname = \"app\"\n",
			"src/main.rs":                        "mod m; fn main() { m::f() }\n",
			"src/m.rs":                           "pub fn f() {}\n",
			"src/gen/table.txt":                  "1 2 3\n",
			"data/outside.txt":                   "read through include_str!(\"../data/outside.txt\")\n",
			"data/unread.txt":                    "never read\n",
			"src/target/x.rs":                    "a module dir named target, not a target dir\n",
			"target/CACHEDIR.TAG":                "Signature: 8a477f597d28d172789f06886806bc55\n",
			"target/debug/deps/app-1":            "binary\n",
			"src/nested-target/.rustc_info.json": "{}",
			"src/nested-target/out.o":            "object\n",
		},
		input: "src/main.rs",
		arg:   "a1",
	}
}

func (ft flightTree) with(path, content string) flightTree {
	files := map[string]string{}
	for p, c := range ft.files {
		files[p] = c
	}
	if content == "" {
		delete(files, path)
	} else {
		files[path] = content
	}
	ft.files = files
	return ft
}

// flightKeyOf writes the tree at a fresh path and computes its flight key
// with a manifest whose one candidate read main.rs, m.rs and
// data/outside.txt.
func flightKeyOf(t *testing.T, ft flightTree) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "wt")
	for p, c := range ft.files {
		full := filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	target := filepath.Join(dir, "target")
	u := &Unit{
		Inv:        &rustc.Invocation{Input: ft.input},
		Cwd:        dir,
		TargetRoot: target,
		Norm:       NewNormalizer(map[string]string{Cwd: dir, Target: target}),
		Hasher:     &filehash.Hasher{},
		ArgKey:     record.ArgKey(ft.arg),
	}
	cands := []record.Candidate{{Inputs: []record.Input{
		{Path: Cwd + "/src/main.rs"}, {Path: Cwd + "/src/m.rs"}, {Path: Cwd + "/data/outside.txt"},
	}}}
	return u.FlightKey(cands)
}

func TestFlightKey(t *testing.T) {
	base := baseTree()
	want := flightKeyOf(t, base)
	tests := []struct {
		name string
		tree flightTree
		same bool // shares the lock with base (waits), or compiles at once
	}{
		{"same files, another path", base, true},
		{"a source differs", base.with("src/m.rs", "pub fn f() { g() }\n"), false},
		{"the crate root differs", base.with("src/main.rs", "fn main() {}\n"), false},
		{"a new file next to the sources", base.with("src/new.rs", "\n"), false},
		{"a file next to the sources removed", base.with("src/gen/table.txt", ""), false},
		{"a data file under the root dir differs", base.with("src/gen/table.txt", "4\n"), false},
		{"a dir named target that is not a target dir", base.with("src/target/x.rs", "changed\n"), false},
		{"a file a candidate read outside the root dir differs", base.with("data/outside.txt", "other\n"), false},
		{"a file a candidate read is gone", base.with("data/outside.txt", ""), false},
		{"other arguments", func() flightTree { b := base; b.arg = "a2"; return b }(), false},
		// Not sources: outputs and files nobody read.
		{"the target dir differs", base.with("target/debug/deps/app-1", "other binary\n"), true},
		{"a nested target dir differs", base.with("src/nested-target/out.o", "other\n"), true},
		{"the manifest differs (outside the root dir)", base.with("Cargo.toml", "[package]\nname = \"app\"\n# x\n"), true},
		// The approximation's one way to err towards waiting: a file no
		// candidate read, outside the root dir.
		{"an unread file outside the root dir differs", base.with("data/unread.txt", "other\n"), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := flightKeyOf(t, tc.tree)
			if (got == want) != tc.same {
				t.Errorf("same lock = %v, want %v", got == want, tc.same)
			}
		})
	}
}

// The crate root's dir is the package root for a build script: the walk
// still skips the package's target dir, and stays bounded.
func TestFlightKeyBuildScriptAndBound(t *testing.T) {
	base := baseTree()
	base.input = "build.rs"
	base = base.with("build.rs", "fn main() {}\n")
	want := flightKeyOf(t, base)
	if got := flightKeyOf(t, base.with("target/debug/deps/app-1", "x\n")); got != want {
		t.Error("a build script's flight key depends on the target dir")
	}
	if got := flightKeyOf(t, base.with("Cargo.toml", "changed\n")); got == want {
		t.Error("a build script's flight key ignores its package's Cargo.toml")
	}

	big := baseTree()
	for i := 0; i < MaxFlightFiles+10; i++ {
		big = big.with(fmt.Sprintf("src/many/f%05d.rs", i), "x\n")
	}
	k1, k2 := flightKeyOf(t, big), flightKeyOf(t, big)
	if k1 != k2 {
		t.Error("a tree over the bound gets different keys at two paths")
	}
	if flightKeyOf(t, big.with("src/m.rs", "changed\n")) == k1 {
		t.Error("over the bound, a change before it is missed")
	}
}

// Registry and git sources under CARGO_HOME are one file for every tree: the
// walk skips them (a large registry crate would cost a full read per miss).
func TestFlightKeySkipsCargoHome(t *testing.T) {
	home := t.TempDir()
	src := filepath.Join(home, "registry/src/index/big-1.0.0/src")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "lib.rs"), []byte("pub fn f() {}\n"), 0o644)
	u := &Unit{
		Inv:    &rustc.Invocation{Input: filepath.Join(src, "lib.rs")},
		Cwd:    filepath.Dir(src),
		Norm:   NewNormalizer(map[string]string{Cwd: filepath.Dir(src)}),
		Hasher: &filehash.Hasher{},
		Env:    map[string]string{"CARGO_HOME": home},
		ArgKey: "a1",
	}
	if files := u.flightFiles([]record.Candidate{{Inputs: []record.Input{{Path: Cwd + "/src/lib.rs"}}}}); len(files) != 0 {
		t.Errorf("files under CARGO_HOME hashed: %v", files)
	}
	u.Env = map[string]string{"HOME": filepath.Dir(home)}
	if files := u.flightFiles(nil); len(files) != 1 {
		t.Errorf("outside CARGO_HOME: %d files, want 1", len(files))
	}
}

// A checksummed package (a directory source's or a vendored one) is
// keyed by its checksum file alone: its sources are not read, another
// checksum file is another lock, and the same package at another path (a
// vendored copy in another tree) shares the lock.
func TestFlightKeyChecksummedPackage(t *testing.T) {
	const sum = `{"package":"2dffe52e","files":{}}`
	keyOf := func(t *testing.T, checksum, lib string) (key string, files map[string]string) {
		t.Helper()
		pkg := filepath.Join(t.TempDir(), "registry", "big-1.0.0")
		os.MkdirAll(filepath.Join(pkg, "src"), 0o755)
		os.WriteFile(filepath.Join(pkg, "src", "lib.rs"), []byte(lib), 0o644)
		if checksum != "" {
			os.WriteFile(filepath.Join(pkg, checksumFile), []byte(checksum), 0o644)
		}
		u := &Unit{
			Inv:    &rustc.Invocation{Input: "src/lib.rs"},
			Cwd:    pkg,
			Norm:   NewNormalizer(map[string]string{Cwd: pkg}),
			Hasher: &filehash.Hasher{},
			Env:    map[string]string{"CARGO_MANIFEST_DIR": pkg},
			ArgKey: "a1",
		}
		cands := []record.Candidate{{Inputs: []record.Input{{Path: Cwd + "/src/lib.rs"}}}}
		return u.FlightKey(cands), u.flightFiles(cands)
	}
	base, files := keyOf(t, sum, "pub fn f() {}\n")
	if len(files) != 1 {
		t.Errorf("checksummed package: flight files %v, want the checksum file alone", files)
	}
	tests := []struct {
		name          string
		checksum, lib string
		same          bool
	}{
		{"same package at another path", sum, "pub fn f() {}\n", true},
		{"another version (checksum file differs)", `{"package":"0000","files":{}}`, "pub fn f() {}\n", false},
		// The documented wait: a source the checksum file does not cover.
		{"a source differs under the same checksum file", sum, "pub fn g() {}\n", true},
		{"no checksum file: sources are read", "", "pub fn f() {}\n", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := keyOf(t, tc.checksum, tc.lib)
			if (got == base) != tc.same {
				t.Errorf("same lock = %v, want %v", got == base, tc.same)
			}
		})
	}
	if _, files := keyOf(t, "", "pub fn f() {}\n"); len(files) != 1 || files[Cwd+"/src/lib.rs"] == "" {
		t.Errorf("without a checksum file: flight files %v, want src/lib.rs", files)
	}
}
