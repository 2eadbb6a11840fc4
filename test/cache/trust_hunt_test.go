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
