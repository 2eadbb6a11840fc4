package wrapper

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

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
