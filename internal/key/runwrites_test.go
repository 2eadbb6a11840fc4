package key

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/grove-rs/grove/internal/atomicfile"
)

// Writes outside OUT_DIR (runwrites.go): a file a script leaves between
// OUT_DIR and the target root keeps its run from being stored; what
// Cargo itself makes there while the script runs does not.
func TestBuildRunWroteOutsideOutDir(t *testing.T) {
	for _, c := range []struct {
		name string
		do   func(root string) // root: the target dir
		want string            // relative to the target dir, "" for none
	}{
		{"nothing", func(string) {}, ""},
		{"a file in OUT_DIR", func(r string) { put(t, r, "debug/build/p-1/out/gen.rs") }, ""},
		{"a header in the profile dir", func(r string) { put(t, r, "debug/g.h") }, "debug/g.h"},
		{"a library copied beside the binary", func(r string) { put(t, r, "debug/libz.so") }, "debug/libz.so"},
		{"a file in the target root", func(r string) { put(t, r, "g.h") }, "g.h"},
		{"a file beside OUT_DIR", func(r string) { put(t, r, "debug/build/p-1/x") }, "debug/build/p-1/x"},
		{"a new dir in the profile dir", func(r string) { put(t, r, "debug/include/g.h") }, "debug/include"},
		{"an uplifted binary, a hard link", func(r string) {
			put(t, r, "debug/deps/app-1")
			if err := os.Link(filepath.Join(r, "debug/deps/app-1"), filepath.Join(r, "debug/app")); err != nil {
				t.Fatal(err)
			}
		}, ""},
		{"dep-info of an uplifted unit", func(r string) { put(t, r, "debug/app.d") }, ""},
		{"another unit's dir and files", func(r string) { put(t, r, "debug/build/q-2/out/x"); put(t, r, "debug/build/q-2/output") }, ""},
		{"a new example", func(r string) { put(t, r, "debug/examples/e") }, ""},
		{"Cargo's file of the unit dir", func(r string) { put(t, r, "debug/build/p-1/output") }, ""},
		// A rustc missing beside the script (same target dir) keeps its
		// tree's dirs there, through a temp file renamed into place.
		{"grove's dirs cache of a compile beside it", func(r string) { put(t, r, treeDirsPrefix+"0123456789abcdef") }, ""},
		{"grove's temp file of that cache", func(r string) { put(t, r, atomicfile.TempPrefix+"123") }, ""},
		{"a file named like grove's in the profile dir", func(r string) { put(t, r, "debug/"+treeDirsPrefix+"x") }, "debug/" + treeDirsPrefix + "x"},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "wt")
			r, err := runKey(t, root, runTree(t, root, map[string]string{"p/build.rs": "fn main(){}"}))
			if err != nil {
				t.Fatal(err)
			}
			target := filepath.Join(root, "target")
			c.do(target)
			want := ""
			if c.want != "" {
				want = filepath.Join(target, c.want)
			}
			if got := r.WroteOutsideOutDir(); got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

func put(t *testing.T, root, rel string) {
	t.Helper()
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
}
