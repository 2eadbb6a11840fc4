package cache_test

import (
	"bytes"
	"compress/zlib"
	"debug/elf"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

// Setups a demanding new user tries, each found to differ from plain cargo
// and closed by its class (see each test's rule).

// Coverage (key/coverage.go): `-C instrument-coverage` writes a coverage
// map that names the compilation dir and sources zlib-compressed, where
// the scan for tree paths cannot see them. llvm-cov reads them: worktree
// b's binary must name b's sources, not a's.
func TestTrustCoverageMapNamesItsOwnTree(t *testing.T) {
	t.Parallel()
	tw := newTwin(t, map[string]string{
		"Cargo.toml":  "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
		"src/main.rs": "fn main() { println!(\"hi\"); }\n",
	})
	rustflags := []string{"RUSTFLAGS=-C instrument-coverage"}
	for _, wt := range []string{"a", "b"} {
		tw.step(wt+": build with coverage", func(s *side) string { return s.cargoEnv(wt, rustflags, "build") })
		tw.step(wt+": files the coverage map names", func(s *side) string {
			return covmapNames(t, filepath.Join(s.wt(wt), "target/debug/app"))
		})
	}
}

// covmapNames returns the file names an LLVM coverage map holds (the
// compilation dir first), as llvm-cov reads them: the __llvm_covmap
// section's filename list is a zlib stream after its LEB128 header.
func covmapNames(t *testing.T, bin string) string {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		return "cannot open: " + err.Error()
	}
	defer f.Close()
	sec := f.Section("__llvm_covmap")
	if sec == nil {
		return "no coverage map"
	}
	data, err := sec.Data()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for i := range data {
		if data[i] != 0x78 { // zlib header
			continue
		}
		r, err := zlib.NewReader(bytes.NewReader(data[i:]))
		if err != nil {
			continue
		}
		raw, err := io.ReadAll(r)
		if err != nil {
			continue
		}
		// each name: its length (ULEB128), then its bytes
		for j := 0; j < len(raw); {
			n, shift := 0, 0
			for j < len(raw) {
				c := raw[j]
				j++
				n |= int(c&0x7f) << shift
				shift += 7
				if c < 0x80 {
					break
				}
			}
			if j+n > len(raw) {
				break
			}
			names = append(names, string(raw[j:j+n]))
			j += n
		}
		break
	}
	if len(names) == 0 {
		return "no names found"
	}
	return strings.Join(names, "\n")
}

// Settings (settings.Check): Cargo runs the wrapper in each package's dir,
// so a relative GROVE_DIR or GROVE_LOG named a dir inside the package; its
// files changed on every build, and a build script without
// rerun-if-changed (Cargo then watches every file of the package) reran
// each time: a second build was never a no-op, and the worktree filled
// with untracked files. grove refuses such a path and builds as plain
// cargo does.
func TestTrustRelativeStorePath(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"GROVE_DIR=.grove-store", "GROVE_LOG=grove.log"} {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			tw := newTwin(t, map[string]string{
				"Cargo.toml":  "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
				".gitignore":  "/target\n",
				"build.rs":    "fn main() {}\n",
				"src/main.rs": "fn main() { println!(\"v1\"); }\n",
			})
			extra := []string{v}
			tw.step("first build", func(s *side) string { return s.cargoEnv("a", extra, "build") })
			tw.step("second build compiles", func(s *side) string {
				_, _, stderr := s.cargoOut("a", extra, "build")
				return strings.Join(grepLines(stderr, "Compiling"), "\n")
			})
			tw.step("untracked files", func(s *side) string { return s.git("a", "status", "--porcelain") })
			tw.step("run", func(s *side) string { return s.run("a", "target/debug/app") })
		})
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, strings.TrimSpace(l))
		}
	}
	return out
}

// The store inside the package (store.ignoreMarker): with
// `GROVE_DIR = { value = ".grove", relative = true }` in the workspace's
// .cargo/config.toml, Cargo lists the store's files as the package's, and
// a build script without rerun-if-changed reran on every build. The store
// ignores itself for git, and so for Cargo.
func TestTrustStoreInsideThePackage(t *testing.T) {
	t.Parallel()
	tw := newTwin(t, map[string]string{
		"Cargo.toml":         "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
		".gitignore":         "/target\n/Cargo.lock\n",
		".cargo/config.toml": "[env]\nGROVE_DIR = { value = \".grove\", relative = true, force = true }\n",
		"build.rs":           "fn main() {}\n",
		"src/main.rs":        "fn main() { println!(\"v1\"); }\n",
	})
	for _, wt := range []string{"a", "b"} {
		tw.step(wt+": first build", func(s *side) string { return s.cargo(wt, "build") })
		tw.step(wt+": second build compiles", func(s *side) string {
			_, _, stderr := s.cargoOut(wt, nil, "build")
			return strings.Join(grepLines(stderr, "Compiling"), "\n")
		})
		tw.step(wt+": untracked files", func(s *side) string { return s.git(wt, "status", "--porcelain") })
	}
}
