package du

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/grove-rs/grove/internal/testneed"
)

// gnuDU returns `du -s -B1` of the given paths together (the last line of
// -c), which counts each hardlinked inode once across all arguments.
func gnuDU(t *testing.T, paths ...string) int64 {
	t.Helper()
	out, err := exec.Command("du", append([]string{"-s", "-c", "-B1"}, paths...)...).Output()
	if err != nil {
		testneed.Missing(t, "du", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	f := strings.Fields(lines[len(lines)-1])
	n, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func write(t *testing.T, p string, size int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestUsageMatchesGNUDu(t *testing.T) {
	base := t.TempDir()
	a, b, c := filepath.Join(base, "a"), filepath.Join(base, "b"), filepath.Join(base, "c")
	for d := 0; d < 30; d++ {
		for f := 0; f < 20; f++ {
			write(t, filepath.Join(a, fmt.Sprint("d", d), fmt.Sprint("sub", f%3), fmt.Sprint("f", f)), 1000*f+d)
		}
	}
	write(t, filepath.Join(b, "big"), 1<<20)
	write(t, filepath.Join(a, "shared"), 300000)
	// Hardlinks inside a, and from b into a.
	must(t, os.Link(filepath.Join(a, "shared"), filepath.Join(a, "d1", "shared-again")))
	must(t, os.Link(filepath.Join(a, "shared"), filepath.Join(b, "shared-from-a")))
	must(t, os.Link(filepath.Join(b, "big"), filepath.Join(b, "big2")))
	must(t, os.Symlink(filepath.Join(b, "big"), filepath.Join(a, "link-to-big")))
	write(t, filepath.Join(c, "x"), 5000)

	res, err := Usage(context.Background(), []string{a, b, c, filepath.Join(base, "missing"), a + "/"}, Options{Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range []string{a, b, c} {
		if got, want := res.Roots[i].Bytes, gnuDU(t, p); got != want {
			t.Errorf("%s: got %d, du says %d", p, got, want)
		}
	}
	if want := gnuDU(t, a, b, c); res.Total != want {
		t.Errorf("total: got %d, du says %d", res.Total, want)
	}
	if !res.Roots[3].Missing || res.Roots[3].Bytes != 0 {
		t.Errorf("missing root: %+v", res.Roots[3])
	}
	if res.Roots[4].Bytes != res.Roots[0].Bytes || res.Roots[4].Path != a+"/" {
		t.Errorf("duplicate root: %+v vs %+v", res.Roots[4], res.Roots[0])
	}
	if sum := res.Roots[0].Bytes + res.Roots[1].Bytes + res.Roots[2].Bytes; sum <= res.Total {
		t.Errorf("cross-root hardlink not deduplicated: sum %d, total %d", sum, res.Total)
	}
}

func TestUsageNestedRoots(t *testing.T) {
	base := t.TempDir()
	write(t, filepath.Join(base, "outer", "f"), 10000)
	write(t, filepath.Join(base, "outer", "inner", "g"), 20000)
	outer, inner := filepath.Join(base, "outer"), filepath.Join(base, "outer", "inner")
	res, err := Usage(context.Background(), []string{outer, inner}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := gnuDU(t, outer); res.Total != want || res.Roots[0].Bytes != want {
		t.Errorf("nested: total %d outer %d, du says %d", res.Total, res.Roots[0].Bytes, want)
	}
	if want := gnuDU(t, inner); res.Roots[1].Bytes != want {
		t.Errorf("inner %d, du says %d", res.Roots[1].Bytes, want)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// BenchmarkUsage measures a large real tree when GROVE_DU_BENCH names one.
func BenchmarkUsage(b *testing.B) {
	dir := os.Getenv("GROVE_DU_BENCH")
	if dir == "" {
		b.Skip("set GROVE_DU_BENCH to a large directory")
	}
	for b.Loop() {
		if _, err := Usage(context.Background(), []string{dir}, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// Freeable leaves out inodes that keep a link outside the roots (a store
// blob hardlinked into a target dir): deleting the roots does not free
// them. Links inside the roots alone do not hold an inode.
func TestFreeableCountsOnlyLastLinks(t *testing.T) {
	base := t.TempDir()
	a, store := filepath.Join(base, "a"), filepath.Join(base, "store")
	write(t, filepath.Join(a, "own"), 1<<20)
	write(t, filepath.Join(store, "blob"), 4<<20)
	must(t, os.Link(filepath.Join(store, "blob"), filepath.Join(a, "blob")))
	must(t, os.Link(filepath.Join(a, "own"), filepath.Join(a, "own-uplifted")))
	res, err := Usage(context.Background(), []string{a}, Options{})
	must(t, err)
	blob, err := Usage(context.Background(), []string{filepath.Join(store, "blob")}, Options{})
	must(t, err)
	if want := gnuDU(t, a) - blob.Total; res.Total != gnuDU(t, a) || res.Freeable != want {
		t.Fatalf("freeable %d, total %d, want %d", res.Freeable, res.Total, want)
	}
	res, err = Usage(context.Background(), []string{a, store}, Options{})
	must(t, err)
	if res.Freeable != res.Total {
		t.Fatalf("with the store among the roots: freeable %d, total %d", res.Freeable, res.Total)
	}
}
