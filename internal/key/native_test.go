package key

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grove-rs/grove/internal/filehash"
	"github.com/grove-rs/grove/internal/record"
	"github.com/grove-rs/grove/internal/rustc"
	"github.com/grove-rs/grove/internal/store"
)

// nativeTree is a worktree with a target dir, and a dir outside both.
type nativeTree struct {
	root, cwd, target, outside string
}

func newNativeTree(t *testing.T) nativeTree {
	t.Helper()
	root := t.TempDir()
	nt := nativeTree{root: root, cwd: filepath.Join(root, "wt"), outside: filepath.Join(root, "elsewhere")}
	nt.target = filepath.Join(nt.cwd, "target")
	return nt
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// nativeKey runs keyNative for an invocation in tree nt and returns the
// components it added.
func nativeKey(t *testing.T, nt nativeTree, inv *rustc.Invocation) ([]Component, error) {
	t.Helper()
	u := &Unit{
		Inv: inv, Cwd: nt.cwd, TargetRoot: nt.target,
		Norm:   NewNormalizer(map[string]string{Cwd: nt.cwd, Target: nt.target}),
		Hasher: &filehash.Hasher{},
	}
	err := u.keyNative()
	return u.Comps.Components, err
}

func withSystemDirs(t *testing.T, dirs ...string) {
	old := systemLibDirs
	systemLibDirs = dirs
	t.Cleanup(func() { systemLibDirs = old })
}

// TestNativeDirsScanned: which search dirs have all their files keyed.
// Native, all and plain -L dirs, in the tree (target dir or working dir)
// or outside it, but not the system's library dirs; dependency and crate
// dirs hold rlibs, keyed through externs and the link closure.
func TestNativeDirsScanned(t *testing.T) {
	nt := newNativeTree(t)
	out := filepath.Join(nt.target, "debug/build/foo-1/out")
	vendor := filepath.Join(nt.cwd, "vendor/lib")
	sys := filepath.Join(nt.outside, "lib")
	deps := filepath.Join(nt.target, "debug/deps")
	for _, d := range []string{out, vendor, sys, deps} {
		writeFiles(t, d, map[string]string{"libx.a": "x in " + d, "notes.txt": "n"})
	}
	withSystemDirs(t)
	tests := []struct {
		name    string
		sp      rustc.SearchPath
		scanned bool
	}{
		{"native in target", rustc.SearchPath{Kind: "native", Path: out}, true},
		{"all in target", rustc.SearchPath{Kind: "all", Path: out}, true},
		{"plain in target", rustc.SearchPath{Kind: "", Path: out}, true},
		{"native in working dir", rustc.SearchPath{Kind: "native", Path: vendor}, true},
		{"native relative to working dir", rustc.SearchPath{Kind: "native", Path: "vendor/lib"}, true},
		{"native outside the tree", rustc.SearchPath{Kind: "native", Path: sys}, true},
		{"system dir", rustc.SearchPath{Kind: "native", Path: "/usr/lib/x86_64-linux-gnu"}, false},
		{"under a system dir", rustc.SearchPath{Kind: "all", Path: "/usr/lib/gcc/x86_64-linux-gnu/12"}, false},
		{"dependency", rustc.SearchPath{Kind: "dependency", Path: deps}, false},
		{"crate", rustc.SearchPath{Kind: "crate", Path: deps}, false},
		{"framework", rustc.SearchPath{Kind: "framework", Path: out}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cs, err := nativeKey(t, nt, &rustc.Invocation{SearchPaths: []rustc.SearchPath{tc.sp}})
			if err != nil {
				t.Fatal(err)
			}
			var dirComp string
			for _, c := range cs {
				if c.Name == "native-dir" {
					dirComp = c.Value
				}
			}
			if got := dirComp != ""; got != tc.scanned {
				t.Fatalf("scanned = %v, want %v (%v)", got, tc.scanned, cs)
			}
			if tc.scanned {
				if !strings.Contains(dirComp, "libx.a ") || !strings.Contains(dirComp, "notes.txt ") {
					t.Errorf("every regular file is keyed: %q", dirComp)
				}
				if tc.sp.Path != sys && strings.Contains(dirComp, nt.root) {
					t.Errorf("the dir is keyed normalized: %q", dirComp)
				}
			}
		})
	}
}

// TestNativeDirContentIsKeyed: a changed, added or removed file in a
// scanned dir changes the key; a subdirectory's content does not (the
// linker does not search it).
func TestNativeDirContentIsKeyed(t *testing.T) {
	nt := newNativeTree(t)
	out := filepath.Join(nt.target, "debug/build/foo-1/out")
	writeFiles(t, out, map[string]string{"libfoo.a": "v1", "foo.o": "o1", "sub/x.c": "c1"})
	withSystemDirs(t)
	inv := &rustc.Invocation{SearchPaths: []rustc.SearchPath{{Kind: "native", Path: out}}}
	sum := func() string {
		cs, err := nativeKey(t, nt, inv)
		if err != nil {
			t.Fatal(err)
		}
		return Sum(cs)
	}
	base := sum()
	for _, tc := range []struct {
		name    string
		change  func()
		changes bool
	}{
		{"library content", func() { writeFiles(t, out, map[string]string{"libfoo.a": "v2"}) }, true},
		{"object content", func() { writeFiles(t, out, map[string]string{"foo.o": "o2"}) }, true},
		{"file added", func() { writeFiles(t, out, map[string]string{"libbar.so": "b"}) }, true},
		{"file renamed", func() { os.Rename(filepath.Join(out, "libbar.so"), filepath.Join(out, "libbaz.so")) }, true},
		{"file removed", func() { os.Remove(filepath.Join(out, "libbaz.so")) }, true},
		{"subdirectory", func() { writeFiles(t, out, map[string]string{"sub/x.c": "c2"}) }, false},
	} {
		tc.change()
		now := sum()
		if (now != base) != tc.changes {
			t.Errorf("%s: key changed = %v, want %v", tc.name, now != base, tc.changes)
		}
		base = now
	}
}

// TestNativeDirKeyIsTreeIndependent: the same files in another worktree's
// target dir key the same.
func TestNativeDirKeyIsTreeIndependent(t *testing.T) {
	withSystemDirs(t)
	var sums []string
	for range 2 {
		nt := newNativeTree(t)
		out := filepath.Join(nt.target, "debug/build/foo-1/out")
		writeFiles(t, out, map[string]string{"libfoo.a": "v1"})
		cs, err := nativeKey(t, nt, &rustc.Invocation{
			SearchPaths: []rustc.SearchPath{{Kind: "native", Path: out}},
			Libs:        []rustc.Lib{{Kind: "static", Name: "foo"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		sums = append(sums, Sum(cs))
	}
	if sums[0] != sums[1] {
		t.Error("the same native files in two trees key differently")
	}
}

// TestNativeTooManyFiles: a search dir holding a whole build tree makes
// the unit uncacheable rather than slow.
func TestNativeTooManyFiles(t *testing.T) {
	nt := newNativeTree(t)
	out := filepath.Join(nt.target, "big")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := 0; i <= maxNativeFiles; i++ {
		f, err := os.Create(filepath.Join(out, "f"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+strconv.Itoa(i)))
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	_, err := nativeKey(t, nt, &rustc.Invocation{SearchPaths: []rustc.SearchPath{{Kind: "native", Path: out}}})
	if _, ok := err.(NotCacheable); !ok {
		t.Fatalf("want NotCacheable, got %v", err)
	}
}

// TestFindLib: -l names are looked up like the linker does: search dirs
// in order, lib<name>.so before lib<name>.a unless static, +verbatim names
// as given, static and verbatim libraries also in the system dirs; a
// dynamic library found only in the system is not keyed.
func TestFindLib(t *testing.T) {
	nt := newNativeTree(t)
	first := filepath.Join(nt.outside, "first")
	second := filepath.Join(nt.outside, "second")
	sys := filepath.Join(nt.outside, "sys")
	writeFiles(t, first, map[string]string{"libboth.a": "first static", "libboth.so": "first shared", "libonlya.a": "a"})
	writeFiles(t, second, map[string]string{"libboth.a": "second static", "libsecond.so": "s", "odd-name.lib": "odd"})
	writeFiles(t, sys, map[string]string{"libsysstatic.a": "ss", "libsysdyn.so": "sd", "libsysdyn.a": "sda", "custom.a": "c"})
	withSystemDirs(t, sys)
	h := &filehash.Hasher{}
	digest := func(p string) string {
		d, err := NativeDigest(h, p)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	dirs := []rustc.SearchPath{{Kind: "native", Path: first}, {Kind: "native", Path: second}}
	tests := []struct {
		lib  rustc.Lib
		want string
	}{
		{rustc.Lib{Kind: "static", Name: "both"}, "libboth.a " + digest(filepath.Join(first, "libboth.a"))},
		{rustc.Lib{Kind: "dylib", Name: "both"}, "libboth.so " + digest(filepath.Join(first, "libboth.so"))},
		{rustc.Lib{Kind: "", Name: "both"}, "libboth.so " + digest(filepath.Join(first, "libboth.so"))},
		{rustc.Lib{Kind: "", Name: "onlya"}, "libonlya.a " + digest(filepath.Join(first, "libonlya.a"))},
		{rustc.Lib{Kind: "dylib", Name: "second"}, "libsecond.so " + digest(filepath.Join(second, "libsecond.so"))},
		{rustc.Lib{Kind: "static", Name: "odd-name.lib", Verbatim: true}, "odd-name.lib " + digest(filepath.Join(second, "odd-name.lib"))},
		{rustc.Lib{Kind: "static", Name: "sysstatic"}, "libsysstatic.a " + digest(filepath.Join(sys, "libsysstatic.a"))},
		{rustc.Lib{Kind: "static", Name: "custom.a", Verbatim: true}, "custom.a " + digest(filepath.Join(sys, "custom.a"))},
		{rustc.Lib{Kind: "dylib", Name: "sysdyn"}, "(not found: dynamic system library)"},
		{rustc.Lib{Kind: "static", Name: "sysdyn"}, "libsysdyn.a " + digest(filepath.Join(sys, "libsysdyn.a"))},
		{rustc.Lib{Kind: "static", Name: "missing"}, "(not found)"},
	}
	for _, tc := range tests {
		t.Run(tc.lib.Kind+":"+tc.lib.Name, func(t *testing.T) {
			cs, err := nativeKey(t, nt, &rustc.Invocation{Target: "x86_64-unknown-linux-gnu", SearchPaths: dirs, Libs: []rustc.Lib{tc.lib}})
			if err != nil {
				t.Fatal(err)
			}
			var got string
			for _, c := range cs {
				if strings.HasPrefix(c.Name, "lib:") {
					got = c.Value
				}
			}
			if got != tc.want {
				t.Errorf("keyed %q, want %q", got, tc.want)
			}
		})
	}
}

// TestNativeDebugInfoNotKeyed: the same C code compiled with -g in two
// worktrees (the objects embed each one's path) keys the same; other code
// keys differently.
func TestNativeDebugInfoNotKeyed(t *testing.T) {
	if _, err := exec.LookPath("cc"); err != nil {
		t.Skip("no C compiler")
	}
	withSystemDirs(t)
	build := func(nt nativeTree, value string) string {
		out := filepath.Join(nt.target, "debug/build/foo-1/out")
		src := filepath.Join(nt.cwd, "csrc")
		writeFiles(t, src, map[string]string{"foo.c": "int foo(void) { return " + value + "; }\n"})
		writeFiles(t, out, nil)
		if err := os.MkdirAll(out, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, c := range [][]string{
			{"cc", "-g", "-O1", "-c", filepath.Join(src, "foo.c"), "-o", filepath.Join(out, "foo.o")},
			{"ar", "crs", filepath.Join(out, "libfoo.a"), filepath.Join(out, "foo.o")},
		} {
			cmd := exec.Command(c[0], c[1:]...)
			cmd.Dir = nt.cwd
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%v: %v\n%s", c, err, b)
			}
		}
		cs, err := nativeKey(t, nt, &rustc.Invocation{
			SearchPaths: []rustc.SearchPath{{Kind: "native", Path: out}},
			Libs:        []rustc.Lib{{Kind: "static", Name: "foo"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return Sum(cs)
	}
	a := build(newNativeTree(t), "1")
	b := build(nativeTree{cwd: filepath.Join(t.TempDir(), "a-longer-worktree-name"), target: filepath.Join(t.TempDir(), "tgt")}, "1")
	c := build(newNativeTree(t), "2")
	if a != b {
		t.Error("the same C code built in two worktrees keys differently")
	}
	if a == c {
		t.Error("different C code keys the same")
	}
}

// TestLinkArgLibs: -L and -l inside link arguments, as cc and ld take them.
func TestLinkArgLibs(t *testing.T) {
	tests := []struct {
		args []string
		dirs []string
		libs []rustc.Lib
	}{
		{[]string{"-lfoo"}, nil, []rustc.Lib{{Name: "foo"}}},
		{[]string{"-l", "foo"}, nil, []rustc.Lib{{Name: "foo"}}},
		{[]string{"-l:libfoo.a"}, nil, []rustc.Lib{{Name: "libfoo.a", Verbatim: true}}},
		{[]string{"-L/opt/x", "-lfoo"}, []string{"/opt/x"}, []rustc.Lib{{Name: "foo"}}},
		{[]string{"-L", "rel/dir"}, []string{"rel/dir"}, nil},
		{[]string{"-Wl,-L,/opt/y,-lbar"}, []string{"/opt/y"}, []rustc.Lib{{Name: "bar"}}},
		{[]string{"-Wl,--library-path=/opt/z,--library=baz"}, []string{"/opt/z"}, []rustc.Lib{{Name: "baz"}}},
		{[]string{"-Wl,-rpath,/opt/r", "-Tlink.ld", "-static"}, nil, nil},
	}
	for _, tc := range tests {
		dirs, libs := linkArgLibs(tc.args)
		if !reflect.DeepEqual(dirs, tc.dirs) || !reflect.DeepEqual(libs, tc.libs) {
			t.Errorf("linkArgLibs(%q) = %q, %v; want %q, %v", tc.args, dirs, libs, tc.dirs, tc.libs)
		}
	}
}

// TestNativeLinkArgSearch: for a unit that links, a -L dir inside the tree
// given in a link argument is scanned like rustc's own; a library named in
// a link argument is looked up in it, in dirs outside the tree, and in
// LIBRARY_PATH.
func TestNativeLinkArgSearch(t *testing.T) {
	nt := newNativeTree(t)
	in := filepath.Join(nt.target, "debug/build/foo-1/out")
	out := filepath.Join(nt.outside, "prebuilt")
	lp := filepath.Join(nt.outside, "libpath")
	writeFiles(t, in, map[string]string{"libfoo.a": "in-tree"})
	writeFiles(t, out, map[string]string{"libbar.a": "outside"})
	writeFiles(t, lp, map[string]string{"libqux.so": "on LIBRARY_PATH"})
	withSystemDirs(t)
	key := func(crateType string) []Component {
		u := &Unit{
			Inv: &rustc.Invocation{
				Target: "x86_64-unknown-linux-gnu", Emit: []string{"link"}, CrateTypes: []string{crateType},
				LinkArgs: []string{"-L" + in, "-Wl,-L," + out, "-lfoo", "-lbar", "-lqux"},
			},
			Cwd: nt.cwd, TargetRoot: nt.target,
			Env:    map[string]string{"LIBRARY_PATH": lp},
			Norm:   NewNormalizer(map[string]string{Cwd: nt.cwd, Target: nt.target}),
			Hasher: &filehash.Hasher{},
		}
		if err := u.keyNative(); err != nil {
			t.Fatal(err)
		}
		return u.Comps.Components
	}
	got := map[string]string{}
	for _, c := range key("bin") {
		got[c.Name] += c.Value + "\n"
	}
	if !strings.Contains(got["native-dir"], "libfoo.a ") {
		t.Errorf("in-tree -L of a link arg not scanned: %v", got)
	}
	if !strings.Contains(got["native-dir"], "libbar.a ") {
		t.Errorf("-L of a link arg outside the tree not scanned: %v", got)
	}
	for _, l := range []string{"lib::foo", "lib::bar", "lib::qux"} {
		if v := strings.TrimSpace(got[l]); v == "" || strings.HasPrefix(v, "(not found") {
			t.Errorf("%s not looked up: %q", l, v)
		}
	}
	if cs := key("lib"); len(cs) != 0 {
		t.Errorf("an rlib does not link: its link args are not searched: %v", cs)
	}
}

// TestFindLibApple: for an Apple target a dynamic library is lib<name>.tbd
// or lib<name>.dylib, taken before lib<name>.a in the same dir.
func TestFindLibApple(t *testing.T) {
	nt := newNativeTree(t)
	dir := filepath.Join(nt.outside, "lib")
	writeFiles(t, dir, map[string]string{"libz.a": "static", "libz.dylib": "dynamic", "libq.a": "only static", "libq.so": "elf"})
	withSystemDirs(t)
	for _, tc := range []struct {
		lib  rustc.Lib
		want string
	}{
		{rustc.Lib{Name: "z"}, "libz.dylib "},
		{rustc.Lib{Kind: "static", Name: "z"}, "libz.a "},
		{rustc.Lib{Name: "q"}, "libq.a "},
	} {
		cs, err := nativeKey(t, nt, &rustc.Invocation{Target: "aarch64-apple-darwin",
			SearchPaths: []rustc.SearchPath{{Kind: "native", Path: dir}}, Libs: []rustc.Lib{tc.lib}})
		if err != nil {
			t.Fatal(err)
		}
		var got string
		for _, c := range cs {
			if strings.HasPrefix(c.Name, "lib:") {
				got = c.Value
			}
		}
		if !strings.HasPrefix(got, tc.want) {
			t.Errorf("%v: keyed %q, want %q…", tc.lib, got, tc.want)
		}
	}
}

// mapMemo is an in-memory filehash.Memo that counts reads and writes.
type mapMemo struct {
	m          map[string][]byte
	gets, puts int
}

func (m *mapMemo) GetObject(ns, key string) ([]byte, error) {
	m.gets++
	b, ok := m.m[ns+"/"+key]
	if !ok {
		return nil, os.ErrNotExist
	}
	return b, nil
}

func (m *mapMemo) PutObject(ns, key string, data []byte) error {
	m.puts++
	m.m[ns+"/"+key] = append([]byte(nil), data...)
	return nil
}

// TestNativeDirMemo: a scanned dir's lines are memoized by the stat
// identities of its files once they are all still; the memo gives the same
// key, any change to a file (or a new file) misses it, files changed
// within the racy window are never memoized, and a damaged memo is
// ignored.
func TestNativeDirMemo(t *testing.T) {
	nt := newNativeTree(t)
	out := filepath.Join(nt.target, "debug/build/foo-1/out")
	writeFiles(t, out, map[string]string{"libfoo.a": "v1", "foo.o": "o1"})
	withSystemDirs(t)
	memo := &mapMemo{m: map[string][]byte{}}
	later := time.Now().Add(time.Hour)
	key := func(now time.Time, m filehash.Memo) string {
		u := &Unit{
			Inv: &rustc.Invocation{SearchPaths: []rustc.SearchPath{{Kind: "native", Path: out}},
				Libs: []rustc.Lib{{Kind: "static", Name: "foo"}}},
			Cwd: nt.cwd, TargetRoot: nt.target,
			Norm:   NewNormalizer(map[string]string{Cwd: nt.cwd, Target: nt.target}),
			Hasher: &filehash.Hasher{Memo: m, Now: func() time.Time { return now }},
		}
		if err := u.keyNative(); err != nil {
			t.Fatal(err)
		}
		return u.Comps.Sum()
	}
	plain := key(later, nil)
	if got := key(time.Now(), memo); got != plain || countNS(memo, record.NSNativeDir) != 0 {
		t.Fatalf("files just written: key %v, memoized %d (want none)", got == plain, countNS(memo, record.NSNativeDir))
	}
	if got := key(later, memo); got != plain || countNS(memo, record.NSNativeDir) != 1 {
		t.Fatalf("still files: same key %v, memoized %d (want 1)", got == plain, countNS(memo, record.NSNativeDir))
	}
	// Served from the memo: poison the files' digests there and see them.
	for k := range memo.m {
		if strings.HasPrefix(k, record.NSNativeDir+"/") {
			memo.m[k] = []byte("foo.o " + strings.Repeat("0", 64) + "\nlibfoo.a " + strings.Repeat("1", 64))
		}
	}
	if got := key(later, memo); got == plain {
		t.Fatal("the memo was not used")
	}
	for k := range memo.m {
		if strings.HasPrefix(k, record.NSNativeDir+"/") {
			memo.m[k] = []byte("garbage")
		}
	}
	if got := key(later, memo); got != plain {
		t.Fatal("a damaged memo was used")
	}
	writeFiles(t, out, map[string]string{"libfoo.a": "v2"})
	changed := key(later, nil)
	if changed == plain {
		t.Fatal("test premise: the change changes the key")
	}
	if got := key(later, memo); got != changed {
		t.Fatal("a changed file was served the old memo")
	}
	writeFiles(t, out, map[string]string{"libbar.a": "new"})
	added := key(later, nil)
	if got := key(later, memo); got != added || added == changed {
		t.Fatal("an added file was served the old memo")
	}
}

func countNS(m *mapMemo, ns string) int {
	n := 0
	for k := range m.m {
		if strings.HasPrefix(k, ns+"/") {
			n++
		}
	}
	return n
}

// TestNativeDirMemoKnownCopies: a dir whose files were all just written
// is memoized at once when each file is a noted copy of a blob (what a
// build-script replay writes into OUT_DIR), and not when any one of them
// is not (written by the script itself, or changed after its note).
func TestNativeDirMemoKnownCopies(t *testing.T) {
	cases := []struct {
		name     string
		after    func(t *testing.T, out string) // after the replay's copies and notes
		memoized bool
	}{
		{"all noted copies", func(t *testing.T, out string) {}, true},
		{"one file written by the script", func(t *testing.T, out string) {
			writeFiles(t, out, map[string]string{"extra.o": "x"})
		}, false},
		{"a copy written after its note", func(t *testing.T, out string) {
			writeFiles(t, out, map[string]string{"foo.o": "o2"})
		}, false},
		{"a copy chmod after its note", func(t *testing.T, out string) {
			os.Chmod(filepath.Join(out, "foo.o"), 0o600)
		}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			nt := newNativeTree(t)
			out := filepath.Join(nt.target, "debug/build/foo-1/out")
			withSystemDirs(t)
			s, err := store.Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			src := t.TempDir()
			writeFiles(t, src, map[string]string{"libfoo.a": "v1", "foo.o": "o1"})
			if err := os.MkdirAll(out, 0o755); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"libfoo.a", "foo.o"} {
				b, _ := os.ReadFile(filepath.Join(src, name))
				d := filehash.Bytes(b)
				if err := s.PutBlob(filepath.Join(src, name), d, false); err != nil {
					t.Fatal(err)
				}
				dst := filepath.Join(out, name)
				if _, err := s.Materialize(d, dst, false); err != nil {
					t.Fatal(err)
				}
				NoteCopy(s, dst, d)
			}
			c.after(t, out)
			u := &Unit{
				Inv: &rustc.Invocation{SearchPaths: []rustc.SearchPath{{Kind: "native", Path: out}},
					Libs: []rustc.Lib{{Kind: "static", Name: "foo"}}},
				Cwd: nt.cwd, TargetRoot: nt.target,
				Norm:   NewNormalizer(map[string]string{Cwd: nt.cwd, Target: nt.target}),
				Hasher: &filehash.Hasher{Memo: s, Known: blobInodes{st: s, now: time.Now}},
			}
			if err := u.keyNative(); err != nil {
				t.Fatal(err)
			}
			plain := &Unit{
				Inv: u.Inv, Cwd: nt.cwd, TargetRoot: nt.target, Norm: u.Norm,
				Hasher: &filehash.Hasher{},
			}
			if err := plain.keyNative(); err != nil {
				t.Fatal(err)
			}
			if u.Comps.Sum() != plain.Comps.Sum() {
				t.Fatal("the known copies key differently from a plain read")
			}
			ents, _ := os.ReadDir(filepath.Join(s.Dir(), "objects", record.NSNativeDir))
			if memoized := len(ents) > 0; memoized != c.memoized {
				t.Errorf("memoized %v, want %v", memoized, c.memoized)
			}
		})
	}
}

// TestNativeOfBlob: a native file that is a noted copy of blob D (what a
// build-script replay writes) is digested from a memo keyed by D, made
// once from the store's blob; any other file, or a copy changed after its
// note, is read.
func TestNativeOfBlob(t *testing.T) {
	const lib = "!<arch>\nnot really members"
	cases := []struct {
		name  string
		note  bool
		after func(t *testing.T, p string)
		byD   bool // digested through the memo by blob
	}{
		{"noted copy", true, func(*testing.T, string) {}, true},
		{"not noted", false, func(*testing.T, string) {}, false},
		{"noted, then written", true, func(t *testing.T, p string) {
			if err := os.WriteFile(p, []byte(lib+" changed"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := store.Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			src := filepath.Join(t.TempDir(), "libfoo.a")
			writeFiles(t, filepath.Dir(src), map[string]string{"libfoo.a": lib})
			d := filehash.Bytes([]byte(lib))
			if err := s.PutBlob(src, d, false); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(t.TempDir(), "libfoo.a")
			if _, err := s.Materialize(d, p, false); err != nil {
				t.Fatal(err)
			}
			if c.note {
				NoteCopy(s, p, d)
			}
			c.after(t, p)
			h := &filehash.Hasher{Memo: s, Known: blobInodes{st: s, now: time.Now}}
			got, err := NativeDigest(h, p)
			if err != nil {
				t.Fatal(err)
			}
			plain, err := NativeDigest(&filehash.Hasher{}, p)
			if err != nil || got != plain {
				t.Fatalf("digest %s, a plain read gives %s (%v)", got, plain, err)
			}
			_, merr := s.GetObject(record.NSNativeHash, blobNativeKey(d))
			if byD := merr == nil; byD != c.byD {
				t.Fatalf("memoized by blob: %v, want %v", byD, c.byD)
			}
			if !c.byD {
				return
			}
			poison := strings.Repeat("7", 64)
			if err := s.PutObject(record.NSNativeHash, blobNativeKey(d), []byte(poison)); err != nil {
				t.Fatal(err)
			}
			if got, _ := NativeDigest(h, p); got != poison {
				t.Errorf("the memo by blob was not used: %s", got)
			}
		})
	}
}
