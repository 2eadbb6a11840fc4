package key

import (
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/grove-rs/grove/internal/filehash"
)

// newScanner is the scanner Pins builds, for a tree at cwd.
func newScanner(cwd, target string, allowed []string) *scanner {
	s := &scanner{allowed: map[string]bool{}}
	for _, a := range allowed {
		s.allowed[a] = true
	}
	s.paths = []treePath{{Cwd, []byte(cwd)}}
	if target != "" {
		s.paths = append(s.paths, treePath{Target, []byte(target)})
	}
	return s
}

// exampleBuild builds the repository's example/ workspace (a C static
// library from a build script, a generated module, a bin) with cargo in a
// tree whose path has a space, and returns the tree.
func exampleBuild(t *testing.T) string {
	t.Helper()
	needTool(t, "cargo")
	needTool(t, "cc")
	dir := filepath.Join(t.TempDir(), "wt a")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("..", "..", "example"))); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("cargo", "build", "-q", "--offline")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "RUSTC_WRAPPER=", "CARGO_TARGET_DIR="+filepath.Join(dir, "target"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cargo build: %v\n%s", err, out)
	}
	return dir
}

// The pin scan reads an output in place from a mapping of it; where it
// cannot map, it reads the file. Both must find the same tree paths in
// every kind of output rustc and cargo write: rlibs (ELF objects in an
// archive, lib.rmeta), rmeta, bins, build scripts, proc-macro and std
// dylibs (.rustc), with and without the source-map allowance.
func TestPinScanMappedEqualsRead(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skip("filehash.Map does not map here")
	}
	needTool(t, "rustc")
	tree := exampleBuild(t)
	target := filepath.Join(tree, "target")
	out, err := exec.Command("rustc", "--print", "sysroot").Output()
	if err != nil {
		t.Fatal(err)
	}
	sysLib := filepath.Join(strings.TrimSpace(string(out)), "lib", "rustlib", hostTriple(t), "lib")

	outputs := []struct{ kind, glob string }{
		{"rlib of a lib with a C library", filepath.Join(target, "debug", "deps", "libalpha-*.rlib")},
		{"rmeta", filepath.Join(target, "debug", "deps", "libbeta-*.rmeta")},
		{"rlib with a generated module", filepath.Join(target, "debug", "deps", "libbeta-*.rlib")},
		{"bin", filepath.Join(target, "debug", "deps", "app-*")},
		{"build script", filepath.Join(target, "debug", "build", "alpha-*", "build_script_build-*")},
		{"C object a build script wrote", filepath.Join(target, "debug", "build", "alpha-*", "out", "f.o")},
		{"C archive a build script wrote", filepath.Join(target, "debug", "build", "alpha-*", "out", "libgrovef.a")},
		{"std rlib", filepath.Join(sysLib, "libstd-*.rlib")},
		{"std dylib", filepath.Join(sysLib, "libstd-*.so")},
		{"core rmeta", filepath.Join(sysLib, "libcore-*.rmeta")},
	}
	var sources []string
	filepath.WalkDir(tree, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".rs") && !strings.HasPrefix(p, target) {
			sources = append(sources, p)
		}
		return nil
	})
	dirSets := []struct {
		name          string
		cwd, target   string
		allowed       []string
		wantSomeFound bool
	}{
		{"the tree, no allowance", tree, target, nil, true},
		{"the tree, its sources allowed", tree, target, append([]string{tree}, sources...), false},
		{"the toolchain's remapped sources", "/rustc", "", nil, true},
		{"a sibling of the tree", tree[:len(tree)-1], "", nil, false},
		{"nowhere", "/nonexistent/tree", "/nonexistent/tree/target", nil, false},
	}
	found := map[string]bool{}
	for _, o := range outputs {
		paths, _ := filepath.Glob(o.glob)
		var files []string
		for _, p := range paths {
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && !strings.HasSuffix(p, ".d") {
				files = append(files, p)
			}
		}
		if len(files) == 0 {
			t.Errorf("%s: no output %s", o.kind, o.glob)
			continue
		}
		for _, p := range files {
			for _, ds := range dirSets {
				read := newScanner(ds.cwd, ds.target, ds.allowed)
				if err := read.outputRead(p); err != nil {
					t.Fatal(err)
				}
				mapped := newScanner(ds.cwd, ds.target, ds.allowed)
				data, unmap, err := filehash.Map(p)
				if err != nil {
					t.Fatalf("%s: map %s: %v", o.kind, p, err)
				}
				ok := mapped.scanMapped(filepath.Base(p), data)
				unmap()
				if !ok {
					t.Fatalf("%s: scan of the mapping of %s faulted", o.kind, p)
				}
				if !maps.Equal(read.found, mapped.found) {
					t.Errorf("%s %s, %s: mapped scan found %v, read %v", o.kind, filepath.Base(p), ds.name, keys(mapped.found), keys(read.found))
				}
				if len(read.found) > 0 {
					found[ds.name] = true
				}
			}
		}
	}
	// The table proves something only if some scans find a path.
	for _, ds := range dirSets {
		if ds.wantSomeFound && !found[ds.name] {
			t.Errorf("%s: no output names it; the comparison proves nothing", ds.name)
		}
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func hostTriple(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("rustc", "-vV").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if h, ok := strings.CutPrefix(l, "host: "); ok {
			return h
		}
	}
	t.Fatal("rustc -vV names no host")
	return ""
}

// BenchmarkPinScan scans real outputs as a miss does, reading them and
// mapping them. The outputs are those of GROVE_PIN_BENCH_DIR (a target
// dir's debug/deps, say), the toolchain's own libraries by default;
// GROVE_PIN_BENCH_TREE is the tree whose paths are looked for.
//
//	GROVE_PIN_BENCH_DIR=$PWD/target/debug/deps go test ./internal/key -run - -bench PinScan
func BenchmarkPinScan(b *testing.B) {
	dir := os.Getenv("GROVE_PIN_BENCH_DIR")
	if dir == "" {
		out, err := exec.Command("rustc", "--print", "sysroot").Output()
		if err != nil {
			b.Skip("no rustc")
		}
		vv, _ := exec.Command("rustc", "-vV").Output()
		host := ""
		for _, l := range strings.Split(string(vv), "\n") {
			if h, ok := strings.CutPrefix(l, "host: "); ok {
				host = h
			}
		}
		dir = filepath.Join(strings.TrimSpace(string(out)), "lib", "rustlib", host, "lib")
	}
	tree := os.Getenv("GROVE_PIN_BENCH_TREE")
	if tree == "" {
		tree = "/nonexistent/tree"
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	var files []string
	var size int64
	for _, e := range ents {
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() && !strings.HasSuffix(e.Name(), ".d") {
			files = append(files, filepath.Join(dir, e.Name()))
			size += fi.Size()
		}
	}
	scan := map[string]func(s *scanner, p string) error{
		"read":   (*scanner).outputRead,
		"mapped": (*scanner).output,
	}
	for _, name := range []string{"read", "mapped"} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				for _, p := range files {
					s := newScanner(tree, filepath.Join(tree, "target"), nil)
					if err := scan[name](s, p); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
