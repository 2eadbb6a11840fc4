package key

import (
	"reflect"
	"testing"

	"github.com/grove-rs/grove/internal/stats"
)

func TestSumDistinguishesBoundaries(t *testing.T) {
	a := Sum([]Component{{"arg", "ab"}, {"arg", "c"}})
	b := Sum([]Component{{"arg", "a"}, {"arg", "bc"}})
	if a == b {
		t.Fatal("length prefixing failed: different lists hash the same")
	}
	if Sum([]Component{{"x", "1"}}) != Sum([]Component{{"x", "1"}}) {
		t.Fatal("Sum is not deterministic")
	}
}

func TestDiff(t *testing.T) {
	old := []Component{{"rustc", "1.95"}, {"arg", "--cfg"}, {"arg", `feature="a"`}, {"src:lib.rs", "d1"}, {"env:FOO", "1"}}
	tests := []struct {
		name string
		new  []Component
		want []stats.Change
	}{
		{"same", old, nil},
		{"feature", []Component{{"rustc", "1.95"}, {"arg", "--cfg"}, {"arg", `feature="b"`}, {"src:lib.rs", "d1"}, {"env:FOO", "1"}},
			[]stats.Change{{Name: "arg", Old: `feature="a"`, New: `feature="b"`}}},
		{"source", []Component{{"rustc", "1.95"}, {"arg", "--cfg"}, {"arg", `feature="a"`}, {"src:lib.rs", "d2"}, {"env:FOO", "1"}},
			[]stats.Change{{Name: "src:lib.rs", Old: "d1", New: "d2"}}},
		{"env removed", []Component{{"rustc", "1.95"}, {"arg", "--cfg"}, {"arg", `feature="a"`}, {"src:lib.rs", "d1"}},
			[]stats.Change{{Name: "env:FOO", Old: "1", New: ""}}},
		{"order", []Component{{"rustc", "1.95"}, {"arg", `feature="a"`}, {"arg", "--cfg"}, {"src:lib.rs", "d1"}, {"env:FOO", "1"}},
			[]stats.Change{{Name: "arg", Old: "(order)", New: "(order changed)"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Diff(old, tc.new)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Diff = %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestNormalizer(t *testing.T) {
	n := NewNormalizer(map[string]string{Cwd: "/work/wt-a", Target: "/work/wt-a/target", CargoHome: "/root/.cargo", Sysroot: "/"})
	tests := []struct{ in, want string }{
		{"/work/wt-a/target/debug/deps/libx.rlib", Target + "/debug/deps/libx.rlib"},
		{"/work/wt-a/src/lib.rs", Cwd + "/src/lib.rs"},
		{"dependency=/work/wt-a/target/debug/deps", "dependency=" + Target + "/debug/deps"},
		{"/root/.cargo/registry/src/x/lib.rs", CargoHome + "/registry/src/x/lib.rs"},
		{"/usr/share/cargo/registry/x/lib.rs", "/usr/share/cargo/registry/x/lib.rs"},
	}
	for _, tc := range tests {
		if got := n.Normalize(tc.in); got != tc.want {
			t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if back := n.Denormalize(n.Normalize(tc.in)); back != tc.in {
			t.Errorf("round trip of %q = %q", tc.in, back)
		}
	}
	other := NewNormalizer(map[string]string{Cwd: "/elsewhere/b", Target: "/tmp/tgt"})
	if got := other.Denormalize(n.Normalize("/work/wt-a/target/debug/x")); got != "/tmp/tgt/debug/x" {
		t.Errorf("cross-tree denormalize = %q", got)
	}
}

func TestOtherModuleFile(t *testing.T) {
	for in, want := range map[string]string{
		"/w/src/m.rs":        "/w/src/m/mod.rs",
		"/w/src/m/mod.rs":    "/w/src/m.rs",
		"/w/src/lib.rs":      "/w/src/lib/mod.rs",
		"/w/src/a/b.rs":      "/w/src/a/b/mod.rs",
		"/w/data.txt":        "",
		"/w/target/x/gen.rs": "/w/target/x/gen/mod.rs",
	} {
		if got := otherModuleFile(in); got != want {
			t.Errorf("otherModuleFile(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNormalizeGluedShortFlag(t *testing.T) {
	n := NewNormalizer(map[string]string{Cwd: "/w/wt", Target: "/w/wt/target"})
	for in, want := range map[string]string{
		"-L/w/wt/target/debug/build/x/out": "-L" + Target + "/debug/build/x/out",
		"-Wl,-L/w/wt/vendor,-lfoo":         "-Wl,-L" + Cwd + "/vendor,-lfoo",
		"x-L/w/wt/src":                     "x-L/w/wt/src", // not an option: a name
		"--L/w/wt":                         "--L/w/wt",
		"-I/w/wt2/include":                 "-I/w/wt2/include",
	} {
		if got := n.Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}
