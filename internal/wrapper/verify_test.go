package wrapper

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grove-rs/grove/internal/key"
	"github.com/grove-rs/grove/internal/record"
	"github.com/grove-rs/grove/internal/store"
	"github.com/grove-rs/grove/internal/testneed"
)

// compileRlib builds one crate in a fresh incremental session, so its
// object files get session names.
func compileRlib(t *testing.T, toolchain, code, src, dir string) []byte {
	t.Helper()
	rustc, err := exec.Command("rustup", "which", "--toolchain", toolchain, "rustc").Output()
	if err != nil {
		testneed.Missing(t, toolchain, err)
	}
	os.MkdirAll(dir, 0o755)
	os.WriteFile(src, []byte(code), 0o644)
	cmd := exec.Command(string(rustc[:len(rustc)-1]), "--crate-name", "q", "--edition=2021", src, "--crate-type", "lib",
		"--emit=metadata,link", "-C", "debuginfo=2", "-C", "metadata=abc", "-C", "extra-filename=-abc",
		"--out-dir", dir, "-C", "incremental="+filepath.Join(dir, "incr"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("rustc: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "libq-abc.rlib"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSameOutputIgnoresSessionNames(t *testing.T) {
	for _, tc := range []string{"stable", "nightly"} {
		t.Run(tc, func(t *testing.T) {
			tmp := t.TempDir()
			code := "pub fn f(x: u32) -> u32 { x * 3 }\n"
			src := filepath.Join(tmp, "lib.rs")
			a := compileRlib(t, tc, code, src, filepath.Join(tmp, "a"))
			b := compileRlib(t, tc, code, src, filepath.Join(tmp, "b"))
			c := compileRlib(t, tc, "pub fn f(x: u32) -> u32 { x * 4 }\n", src, filepath.Join(tmp, "c"))
			if !sameOutput(a, b) {
				t.Error("two sessions of the same compile compare different")
			}
			if sameOutput(a, c) {
				t.Error("different code compares the same")
			}
		})
	}
}

// crossBuild compiles lib.rs (relative, as Cargo passes workspace sources)
// with cwd as the working dir, into out, and returns the rlib and rmeta.
func crossBuild(t *testing.T, cwd, out string) (rlib, rmeta []byte) {
	t.Helper()
	rustc, err := exec.Command("rustup", "which", "--toolchain", "stable", "rustc").Output()
	if err != nil {
		t.Skip("no stable toolchain")
	}
	os.MkdirAll(out, 0o755)
	cmd := exec.Command(string(rustc[:len(rustc)-1]), "--crate-name", "q", "--edition=2021", "src/lib.rs", "--crate-type", "lib",
		"--emit=metadata,link", "-C", "debuginfo=2", "-C", "metadata=abc", "-C", "extra-filename=-abc",
		"--out-dir", out, "-C", "incremental="+filepath.Join(out, "incr"))
	cmd.Dir = cwd
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("rustc: %v\n%s", err, b)
	}
	rlib, _ = os.ReadFile(filepath.Join(out, "libq-abc.rlib"))
	rmeta, _ = os.ReadFile(filepath.Join(out, "libq-abc.rmeta"))
	return rlib, rmeta
}

// A crate compiled in another tree compares equal to the same crate
// compiled here at two mirror paths of the other tree's length, and
// different when the code differs. Without the mirror (a path of another
// length) the metadata moves, and even at one length, hashes of the file
// names differ: why the comparison needs both.
func TestCrossCompare(t *testing.T) {
	tmp := t.TempDir()
	code := "pub mod m { pub fn f(x: u32) -> u32 { x * 3 } }\npub fn g<T: std::fmt::Debug>(t: T) -> String { format!(\"{t:?}\") }\n"
	origin := filepath.Join(tmp, "origin-tree-with-a-long-name")
	here := filepath.Join(tmp, "b")
	for _, d := range []string{origin, here} {
		os.MkdirAll(filepath.Join(d, "src"), 0o755)
		os.WriteFile(filepath.Join(d, "src/lib.rs"), []byte(code), 0o644)
	}
	aLib, aMeta := crossBuild(t, origin, filepath.Join(tmp, "out-a"))
	stored := treePaths{{[]byte(origin), 'C'}}

	mirrored := func(name string) (rlib, rmeta []byte, paths treePaths) {
		p, err := exactPath(len(origin))
		if err != nil {
			t.Skip(err)
		}
		if err := farm(here, p); err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(p)
		rlib, rmeta = crossBuild(t, p, filepath.Join(tmp, name))
		return rlib, rmeta, treePaths{{[]byte(p), 'C'}}
	}
	b1Lib, b1Meta, p1 := mirrored("out-1")
	b2Lib, b2Meta, p2 := mirrored("out-2")
	if d := crossCompare("libq-abc.rmeta", crossSide{aMeta, stored}, crossSide{b1Meta, p1}, crossSide{b2Meta, p2}); d != "" {
		t.Errorf("rmeta: %s", d)
	}
	if d := crossCompare("libq-abc.rlib", crossSide{aLib, stored}, crossSide{b1Lib, p1}, crossSide{b2Lib, p2}); d != "" {
		t.Errorf("rlib: %s", d)
	}
	if bytes.Equal(aMeta, b1Meta) {
		t.Error("the rmeta is the same at another path: the test proves nothing")
	}

	// At another length, without a mirror: the metadata does not line up.
	bLib, bMeta := crossBuild(t, here, filepath.Join(tmp, "out-b"))
	hereP := treePaths{{[]byte(here), 'C'}}
	if d := crossCompare("libq-abc.rmeta", crossSide{aMeta, stored}, crossSide{bMeta, hereP}, crossSide{bMeta, hereP}); d == "" {
		t.Error("metadata of another length compares equal")
	}
	_ = bLib

	// Other code, mirrored: found.
	os.WriteFile(filepath.Join(here, "src/lib.rs"), []byte(strings.Replace(code, "x * 3", "x * 4", 1)), 0o644)
	c1Lib, c1Meta, q1 := mirrored("out-3")
	c2Lib, c2Meta, q2 := mirrored("out-4")
	if d := crossCompare("libq-abc.rlib", crossSide{aLib, stored}, crossSide{c1Lib, q1}, crossSide{c2Lib, q2}); d == "" {
		t.Error("other code compares equal (rlib)")
	}
	if d := crossCompare("libq-abc.rmeta", crossSide{aMeta, stored}, crossSide{c1Meta, q1}, crossSide{c2Meta, q2}); d == "" {
		t.Log("other code in a non-generic fn is in the objects only, not the rmeta")
	}
	os.WriteFile(filepath.Join(here, "src/lib.rs"), []byte(strings.Replace(code, "{t:?}", "<{t:?}>", 1)), 0o644)
	d1Lib, d1Meta, r1 := mirrored("out-5")
	_, d2Meta, r2 := mirrored("out-6")
	if d := crossCompare("libq-abc.rmeta", crossSide{aMeta, stored}, crossSide{d1Meta, r1}, crossSide{d2Meta, r2}); d == "" {
		t.Error("another generic body compares equal (rmeta)")
	}
	_ = d1Lib
}

func TestFillPathsAndWindow(t *testing.T) {
	a := crossSide{[]byte("\x05/x/wt\xc1 /x/wt2 /x/wt/src h=AAAAAAAAAAAAAAAA ....................k=1"), treePaths{{[]byte("/x/wt"), 'C'}}}
	b := crossSide{[]byte("\x05/y/vv\xc1 /x/wt2 /y/vv/src h=BBBBBBBBBBBBBBBB ....................k=1"), treePaths{{[]byte("/y/vv"), 'C'}}}
	b2 := crossSide{[]byte("\x05/z/uu\xc1 /x/wt2 /z/uu/src h=BBBBBBBBBBBBBBBC ....................k=1"), treePaths{{[]byte("/z/uu"), 'C'}}}
	if got := string(fillPaths(a)); got != "\x05CCCCC\xc1 /x/wt2 CCCCC/src h=AAAAAAAAAAAAAAAA ....................k=1" {
		t.Errorf("fillPaths = %q", got)
	}
	// One byte of the hash differs between the two compiles here: the
	// window takes in all 16.
	if d := crossMetadata(a, b, b2); d != "" {
		t.Errorf("hash next to a path-dependent byte: %s", d)
	}
	c := crossSide{[]byte("\x05/x/wt\xc1 /x/wt2 /x/wt/src h=AAAAAAAAAAAAAAAA ....................k=2"), a.paths}
	if d := crossMetadata(c, b, b2); d == "" {
		t.Error("a byte far from any path-dependent one is not compared")
	}
}

// TestVerifySkipsTrimmedOutput: a stored output gone by the time a hit is
// verified (a trim beside the build removed its blob after the restore) is
// not checked, never reported as a difference.
func TestVerifySkipsTrimmedOutput(t *testing.T) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	u := &key.Unit{Cwd: "/w/a", TargetRoot: "/w/a/target"}
	for _, origin := range []string{u.Origin(), "/w/b\x00/w/b/target"} {
		e := &record.Entry{Origin: origin, Outputs: []record.Output{{Name: "libx-1.rlib", Digest: record.Digest(strings.Repeat("ab", 32))}}}
		if got := (&wrapper{st: st}).verify(u, e); !strings.HasPrefix(got, "verify: skipped (stored") {
			t.Errorf("origin %q: got %q, want verify: skipped", origin, got)
		}
	}
}
