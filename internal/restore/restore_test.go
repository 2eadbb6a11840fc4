package restore

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/grove-rs/grove/internal/record"
	"github.com/grove-rs/grove/internal/rustc"
)

func TestLinkable(t *testing.T) {
	t0 := time.Unix(1000, 0)
	lib := []record.Output{{Name: "libx-1.rmeta", Size: 10}, {Name: "libx-1.rlib", Size: 100}}
	rlibFirst := []record.Output{{Name: "libx-1.rlib", Size: 100}, {Name: "libx-1.rmeta", Size: 200}}
	bigLib := []record.Output{{Name: "libx-1.rmeta", Size: 3 << 20}, {Name: "libx-1.rlib", Size: 30 << 20}}
	bigMeta := []record.Output{{Name: "libx-1.rmeta", Size: 3 << 20}, {Name: "libx-1.rlib", Size: 5 << 20}}
	check := []record.Output{{Name: "libx-1.rmeta", Size: 10}}
	bin := []record.Output{{Name: "app-1", Size: 5}}
	procMacro := []record.Output{{Name: "libpm-1.so", Size: 5}}
	libAndCdylib := []record.Output{{Name: "libx-1.rmeta", Size: 10}, {Name: "libx-1.rlib", Size: 100}, {Name: "libx-1.so", Size: 50}}
	script := []record.Output{{Name: "build_script_build-1", Size: 5}}
	same := func(n int) []time.Time {
		m := make([]time.Time, n)
		for i := range m {
			m[i] = t0
		}
		return m
	}
	noneUnseen := func(n int) []bool { return make([]bool, n) }
	tests := []struct {
		name      string
		outs      []record.Output
		kind      Kind
		unseen    []bool // nil: none
		mtimes    []time.Time
		replacing bool
		depMtime  time.Time
		want      []bool
	}{
		{"library, blobs newer than deps: both hardlinked", lib, KindLibrary, nil, []time.Time{t0, t0.Add(time.Second)}, false, t0, []bool{true, true}},
		{"library, newest blob equal to deps: both hardlinked", lib, KindLibrary, nil, same(2), false, t0, []bool{true, true}},
		{"library, no deps", lib, KindLibrary, nil, same(2), false, time.Time{}, []bool{true, true}},
		{"library, deps newer: the small rlib is fresh", lib, KindLibrary, nil, same(2), false, t0.Add(time.Second), []bool{true, false}},
		{"library, deps newer: the rlib, whichever is listed first", rlibFirst, KindLibrary, nil, same(2), false, t0.Add(time.Second), []bool{false, true}},
		{"library, deps newer: the rmeta when the rlib is big", bigLib, KindLibrary, nil, same(2), false, t0.Add(time.Second), []bool{false, true}},
		{"library, deps newer: the rlib when big but under twice the rmeta", bigMeta, KindLibrary, nil, same(2), false, t0.Add(time.Second), []bool{true, false}},
		{"rmeta only, deps newer: it is fresh", check, KindLibrary, nil, same(1), false, t0.Add(time.Second), []bool{false}},
		{"cargo check: never linked (Cargo re-dates it)", check, KindCheck, nil, same(1), false, time.Time{}, []bool{false}},
		{"library replacing another build of it: all fresh", lib, KindLibrary, nil, []time.Time{t0.Add(time.Hour), t0.Add(time.Hour)}, true, t0, []bool{false, false}},
		{"program: always fresh", bin, KindProgram, nil, same(1), false, time.Time{}, []bool{false}},
		{"program replacing: fresh", bin, KindProgram, nil, same(1), true, time.Time{}, []bool{false}},
		{"proc-macro, blob not older than deps: hardlinked", procMacro, KindProcMacro, nil, same(1), false, t0, []bool{true}},
		{"proc-macro, deps newer: fresh", procMacro, KindProcMacro, nil, same(1), false, t0.Add(time.Second), []bool{false}},
		{"proc-macro replacing: fresh", procMacro, KindProcMacro, nil, same(1), true, time.Time{}, []bool{false}},
		{"lib + cdylib, deps newer: the .so is fresh, which makes the unit new enough", libAndCdylib, KindLibrary, nil, same(3), false, t0.Add(time.Second), []bool{true, true, false}},
		{"build script without a trampoline, deps newer: fresh", script, KindBuildScript, nil, same(1), false, t0.Add(time.Second), []bool{false}},
		{"build script without a trampoline, not older than deps: hardlinked", script, KindBuildScript, nil, same(1), false, t0, []bool{true}},
		{"build script behind a trampoline, deps newer: hardlinked", script, KindBuildScript, []bool{true}, same(1), false, t0.Add(time.Second), []bool{true}},
		{"build script behind a trampoline, replacing: hardlinked", script, KindBuildScript, []bool{true}, same(1), true, t0.Add(time.Second), []bool{true}},
	}
	for _, tc := range tests {
		shared := make([]bool, len(tc.outs))
		for i, o := range tc.outs {
			shared[i] = Shared(tc.kind, o.Name)
		}
		unseen := tc.unseen
		if unseen == nil {
			unseen = noneUnseen(len(tc.outs))
		}
		if got := linkable(tc.outs, shared, unseen, tc.mtimes, tc.replacing, tc.depMtime); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: linkable = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// The rule of share.go: which outputs of which units may share an inode.
func TestShared(t *testing.T) {
	for _, tc := range []struct {
		kind Kind
		name string
		want bool
	}{
		{KindLibrary, "libl-0123.rlib", true},
		{KindLibrary, "libl-0123.rmeta", true},
		{KindLibrary, "libl-0123.so", false}, // a cdylib or dylib: uplifted, stripped in place
		{KindLibrary, "libl-0123.a", false},
		{KindLibrary, "l-0123.d", false},
		{KindProcMacro, "libserde_derive-0123.so", true},
		{KindProcMacro, "libserde_derive-0123.dylib", true},
		{KindProcMacro, "serde_derive-0123.d", false},
		{KindBuildScript, "build_script_build-0123", true},
		{KindBuildScript, "build-script-build", true},
		{KindBuildScript, "build_script_build-0123.grove-real", true},
		{KindBuildScript, "build_script_build-0123.d", false},
		{KindProgram, "app-0123", false},
		{KindProgram, "app", false},
		{KindCheck, "libl-0123.rmeta", false}, // Cargo re-dates it after rustc
		{KindCheck, "libpm-0123.so", false},
	} {
		if got := Shared(tc.kind, tc.name); got != tc.want {
			t.Errorf("Shared(%v, %q) = %v, want %v", tc.kind, tc.name, got, tc.want)
		}
	}
}

func TestKindOfInvocation(t *testing.T) {
	for _, tc := range []struct {
		args []string
		bin  string // CARGO_BIN_NAME, which Cargo sets for bin targets only
		want Kind
	}{
		{[]string{"--crate-name", "l", "--crate-type", "lib", "--emit=dep-info,metadata,link"}, "", KindLibrary},
		{[]string{"--crate-name", "l", "--crate-type", "rlib", "--crate-type", "cdylib", "--emit=dep-info,metadata,link"}, "", KindLibrary},
		{[]string{"--crate-name", "l", "--crate-type", "lib", "--emit=dep-info,metadata"}, "", KindCheck},
		{[]string{"--crate-name", "pm", "--crate-type", "proc-macro", "--emit=dep-info,link"}, "", KindProcMacro},
		{[]string{"--crate-name", "build_script_build", "--crate-type", "bin", "--emit=dep-info,link"}, "", KindBuildScript},
		{[]string{"--crate-name", "build_script_build", "--crate-type", "bin", "--emit=dep-info,metadata"}, "", KindCheck},
		{[]string{"--crate-name", "app", "--crate-type", "bin", "--emit=dep-info,link"}, "", KindProgram},
		{[]string{"--crate-name", "app", "--test", "--emit=dep-info,link"}, "", KindProgram},
		{[]string{"--crate-name", "app", "--crate-type", "bin", "--emit=dep-info,metadata"}, "", KindCheck},
		// build = "build/main.rs" (typenum): Cargo names the crate after the file
		{[]string{"--crate-name", "build_script_main", "--crate-type", "bin", "--emit=dep-info,link"}, "", KindBuildScript},
		// a user's bin that happens to carry the prefix stays a program
		{[]string{"--crate-name", "build_script_x", "--crate-type", "bin", "--emit=dep-info,link"}, "build_script_x", KindProgram},
	} {
		inv := rustc.Parse("rustc", append(tc.args, "--out-dir", "/o", "src/lib.rs"))
		env := map[string]string{}
		if tc.bin != "" {
			env["CARGO_BIN_NAME"] = tc.bin
		}
		if got := KindOfInvocation(inv, env); got != tc.want {
			t.Errorf("KindOfInvocation(%v) = %v, want %v", tc.args, got, tc.want)
		}
	}
	if got := KindOfInvocation(nil, nil); got != KindProgram {
		t.Errorf("KindOfInvocation(nil) = %v, want KindProgram", got)
	}
}

// DepOutputs finds the dependency outputs Cargo compares from what Cargo
// passes, in both target-dir layouts. The trees are laid out as cargo
// 1.95 (old layout) and cargo 1.97 nightly with -Zbuild-dir-new-layout
// write them.
func TestDepOutputs(t *testing.T) {
	type layout struct {
		files []string // created under the target dir
		args  []string // the unit's rustc arguments, %s = target dir
		env   map[string]string
		want  []string
	}
	layouts := map[string]layout{
		"old layout: deps/, build/<pkg>-<hash>/output": {
			files: []string{
				"debug/deps/libl-aaa.rlib", "debug/deps/libl-aaa.rmeta",
				"debug/build/app-bbb/output", "debug/build/app-bbb/stderr", "debug/build/app-bbb/root-output",
				"debug/build/app-bbb/invoked.timestamp", "debug/build/app-bbb/out/gen.rs",
			},
			args: []string{"--extern", "l=%s/debug/deps/libl-aaa.rmeta", "--extern", "proc_macro"},
			env:  map[string]string{"OUT_DIR": "%s/debug/build/app-bbb/out"},
			want: []string{
				"debug/deps/libl-aaa.rmeta", // only the rmeta: Cargo compares only it
				"debug/build/app-bbb/invoked.timestamp", "debug/build/app-bbb/output",
				"debug/build/app-bbb/root-output", "debug/build/app-bbb/stderr",
			},
		},
		"new layout: build/<pkg>/<hash>/{out,run}": {
			files: []string{
				"debug/build/l/aaa/out/libl-aaa.rlib", "debug/build/l/aaa/out/libl-aaa.rmeta",
				"debug/build/l/aaa/fingerprint/lib-l",
				"debug/build/app/bbb/run/stdout", "debug/build/app/bbb/run/stderr",
				"debug/build/app/bbb/run/root-output", "debug/build/app/bbb/run/invoked.timestamp",
				"debug/build/app/bbb/fingerprint/run-build-script-build-script-build",
				"debug/build/app/bbb/out/gen.rs",
				"debug/build/app/ccc/out/app-ccc",
			},
			args: []string{"--extern", "l=%s/debug/build/l/aaa/out/libl-aaa.rlib"},
			env: map[string]string{
				"OUT_DIR":           "%s/debug/build/app/bbb/out",
				"CARGO_BIN_EXE_app": "%s/debug/build/app/ccc/out/app-ccc",
			},
			want: []string{
				"debug/build/l/aaa/out/libl-aaa.rlib", "debug/build/l/aaa/out/libl-aaa.rmeta",
				"debug/build/app/ccc/out/app-ccc",
				"debug/build/app/bbb/run/invoked.timestamp", "debug/build/app/bbb/run/root-output",
				"debug/build/app/bbb/run/stderr", "debug/build/app/bbb/run/stdout",
			},
		},
		"relative extern, no build script": {
			files: []string{"debug/deps/libl-aaa.rlib"},
			args:  []string{"--extern", "l=target/debug/deps/libl-aaa.rlib"},
			env:   map[string]string{"OUT_DIR": "/somewhere/the/user/set"},
			want:  []string{"debug/deps/libl-aaa.rlib", "debug/deps/libl-aaa.rmeta"},
		},
	}
	for name, l := range layouts {
		t.Run(name, func(t *testing.T) {
			cwd := t.TempDir()
			target := filepath.Join(cwd, "target")
			for _, f := range l.files {
				p := filepath.Join(target, f)
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var args []string
			for _, a := range l.args {
				args = append(args, strings.ReplaceAll(a, "%s", target))
			}
			args = append(args, "--crate-name", "app", "--crate-type", "lib", "src/lib.rs")
			env := map[string]string{}
			for k, v := range l.env {
				env[k] = strings.ReplaceAll(v, "%s", target)
			}
			var got []string
			for _, p := range DepOutputs(rustc.Parse("rustc", args), cwd, env) {
				rel, _ := filepath.Rel(target, p)
				got = append(got, rel)
			}
			sort.Strings(got)
			want := append([]string{}, l.want...)
			sort.Strings(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("DepOutputs:\n got %v\nwant %v", got, want)
			}
		})
	}
}
