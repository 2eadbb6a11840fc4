package key

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/grove-rs/grove/internal/depinfo"
	"github.com/grove-rs/grove/internal/testneed"
)

// pinUnit is a unit of a tree at dir (working dir dir, target dir
// dir/target), enough for Pins.
func pinUnit(dir string) *Unit {
	return &Unit{
		Cwd:        dir,
		TargetRoot: filepath.Join(dir, "target"),
		Norm:       NewNormalizer(map[string]string{Cwd: dir, Target: filepath.Join(dir, "target")}),
	}
}

// rmetaString is a string as rustc's metadata encoder writes it: LEB128
// length, bytes, 0xC1.
func rmetaString(s string) []byte {
	b := []byte{byte(len(s))}
	b = append(b, s...)
	return append(b, 0xC1)
}

func rmetaLike(strs ...string) []byte {
	b := []byte("rust\x00\x00\x00\x09")
	for _, s := range strs {
		b = append(b, 0x07, 0x00)
		b = append(b, rmetaString(s)...)
	}
	return append(b, 0x00, 0x01)
}

func pinsOf(t *testing.T, u *Unit, name string, data []byte, sources []string) map[string]string {
	t.Helper()
	out := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(out, data, 0o644); err != nil {
		t.Fatal(err)
	}
	pins, err := u.Pins([]string{out}, sources)
	if err != nil {
		t.Fatal(err)
	}
	return pins
}

func pinNames(pins map[string]string) string {
	var s []string
	for _, ph := range []string{Cwd, Target} {
		if _, ok := pins[ph]; ok {
			s = append(s, ph)
		}
	}
	return strings.Join(s, ",")
}

// Hand-made metadata: the source map may name the working dir and the
// dep-info's files; any other string of the tree pins.
func TestPinsMetadata(t *testing.T) {
	const dir = "/w/wt a"
	u := pinUnit(dir)
	gen := dir + "/target/debug/build/x-1/out/gen.rs"
	sources := []string{"src/lib.rs", "src/m.rs", gen}
	tests := []struct {
		name string
		strs []string
		want string
	}{
		{"source map only", []string{dir, dir + "/src/lib.rs", dir + "/src/m.rs", gen}, ""},
		{"source file not in dep-info", []string{dir, dir + "/src/other.rs"}, Cwd},
		{"manifest dir literal", []string{dir + "/src/lib.rs", dir + "/app"}, Cwd},
		// The target dir lies in the working dir: a path into it names both.
		{"OUT_DIR literal", []string{gen, dir + "/target/debug/build/x-1/out"}, Cwd + "," + Target},
		{"file under OUT_DIR", []string{dir + "/target/debug/build/x-1/out/config.txt"}, Cwd + "," + Target},
		{"bin exe", []string{dir + "/target/debug/app"}, Cwd + "," + Target},
		{"sibling dir", []string{"/w/wt a2/src/lib.rs", "/w/wt ab"}, ""},
		{"parent dir", []string{"/w", "/w/wt"}, ""},
		{"other tree", []string{"/w/wt b/src/lib.rs", "/x/w/wt a/src/lib.rs"}, ""},
		{"source path as a prefix of a longer literal", []string{dir + "/src/lib.rs.bak"}, Cwd},
		{"both", []string{dir + "/data", dir + "/target/x"}, Cwd + "," + Target},
		// A string that is exactly a tree path ends at rustc's 0xC1.
		{"target dir exactly", []string{dir + "/target"}, Cwd + "," + Target},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := pinNames(pinsOf(t, u, "libx-1.rmeta", rmetaLike(tc.strs...), sources)); got != tc.want {
				t.Errorf("pins = %q, want %q", got, tc.want)
			}
		})
	}
	// Outside metadata, the same source-map strings pin: only rustc's
	// metadata has a source map.
	if got := pinNames(pinsOf(t, u, "app", rmetaLike(dir+"/src/lib.rs"), sources)); got != Cwd {
		t.Errorf("raw file with a source path: pins = %q, want %q", got, Cwd)
	}
	if got := pinNames(pinsOf(t, u, "app", []byte("nothing here /w/wt a2 /w/wt ab"), sources)); got != "" {
		t.Errorf("raw file with sibling paths: pins = %q", got)
	}
	pins := pinsOf(t, u, "libx-1.rmeta", rmetaLike(dir+"/target/debug/app"), sources)
	if pins[Target] != dir+"/target" {
		t.Errorf("pins = %v, want the target dir's path", pins)
	}
}

// An archive (rlib) is scanned by member: its lib.rmeta with the source
// map allowance, its objects whole.
func TestPinsArchive(t *testing.T) {
	const dir = "/w/wt a"
	u := pinUnit(dir)
	ar := func(members map[string][]byte) []byte {
		var b bytes.Buffer
		b.WriteString("!<arch>\n")
		for _, n := range []string{"lib.rmeta", "x-1.x.o"} {
			data, ok := members[n]
			if !ok {
				continue
			}
			hdr := []byte(strings.Repeat(" ", 60))
			copy(hdr[0:], n+"/")
			copy(hdr[16:], "0")
			copy(hdr[28:], "0")
			copy(hdr[34:], "0")
			copy(hdr[40:], "644")
			copy(hdr[48:], []byte(strings.TrimSpace(strings.Repeat(" ", 0)+strconv.Itoa(len(data)))))
			copy(hdr[58:], "`\n")
			b.Write(hdr)
			b.Write(data)
			if len(data)%2 == 1 {
				b.WriteByte('\n')
			}
		}
		return b.Bytes()
	}
	meta := rmetaLike(dir, dir+"/src/lib.rs")
	if got := pinNames(pinsOf(t, u, "libx-1.rlib", ar(map[string][]byte{"lib.rmeta": meta, "x-1.x.o": []byte("code")}), []string{"src/lib.rs"})); got != "" {
		t.Errorf("rlib with a source map only: pins = %q", got)
	}
	obj := []byte("panic at " + dir + "/target/debug/build/x-1/out/gen.rs")
	if got := pinNames(pinsOf(t, u, "libx-1.rlib", ar(map[string][]byte{"lib.rmeta": meta, "x-1.x.o": obj}), []string{"src/lib.rs"})); got != Cwd+","+Target {
		t.Errorf("rlib whose object names OUT_DIR: pins = %q, want both", got)
	}
}

func needTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		testneed.Missing(t, name, err)
	}
}

func runIn(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

// Real ELF objects from cc: a path in .rodata pins; the same path only in
// debug info (the compile dir of -g) does not.
func TestPinsELF(t *testing.T) {
	needTool(t, "cc")
	dir := filepath.Join(t.TempDir(), "wt a")
	u := pinUnit(dir)
	os.MkdirAll(filepath.Join(dir, "target"), 0o755)
	tests := []struct {
		name, src string
		want      string
	}{
		{"path in rodata", `const char *p = "` + dir + `/target/debug/build/x/out"; const char *q(void) { return p; }`, Cwd + "," + Target},
		{"debug info only", `int f(void) { return 1; }`, ""},
		{"sibling path in rodata", `const char *p = "` + dir + `2/x"; const char *q(void) { return p; }`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			os.WriteFile(filepath.Join(dir, "x.c"), []byte(tc.src+"\n"), 0o644)
			// Relative source, cwd in the tree: the tree's path is only in
			// DW_AT_comp_dir.
			runIn(t, dir, "cc", "-g", "-c", "-o", "target/x.o", "x.c")
			data, err := os.ReadFile(filepath.Join(dir, "target/x.o"))
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" && !bytes.Contains(data, []byte(dir)) && tc.name == "debug info only" {
				t.Fatal("cc -g wrote no compile dir: the case proves nothing")
			}
			if got := pinNames(pinsOf(t, u, "x.o", data, nil)); got != tc.want {
				t.Errorf("pins = %q, want %q", got, tc.want)
			}
			if tc.want == "" {
				return
			}
			// Without a section table nothing can be skipped: it still pins.
			noSections := append([]byte{}, data...)
			binary.LittleEndian.PutUint64(noSections[0x28:], 0) // e_shoff
			binary.LittleEndian.PutUint16(noSections[0x3c:], 0) // e_shnum
			binary.LittleEndian.PutUint16(noSections[0x3e:], 0) // e_shstrndx
			if got := pinNames(pinsOf(t, u, "x.o", noSections, nil)); got != tc.want {
				t.Errorf("without a section table: pins = %q, want %q", got, tc.want)
			}
		})
	}
}

// Real rustc outputs: a library with debug info whose metadata names its
// sources is not pinned; one holding a tree path in a constant is.
func TestPinsRustc(t *testing.T) {
	needTool(t, "rustc")
	tests := []struct {
		name   string
		lib    string
		types  string
		want   string
		extraS map[string]string
	}{
		{"plain lib", "pub fn v() -> u32 { 1 }\npub mod m;\n", "lib", "", map[string]string{"src/m.rs": "pub fn w() -> u32 { 2 }\n"}},
		{"lib with generic and panics", "pub fn g<T: Default + PartialEq>(t: T) -> bool { assert!(t == T::default(), \"x\"); true }\n#[inline] pub fn h(v: &[u8]) -> u8 { v[3] }\n", "lib", "", nil},
		{"lib with a manifest-dir constant", "pub const D: &str = env!(\"DIR_OF_TREE\");\npub fn d() -> &'static str { D }\n", "lib", Cwd, nil},
		{"bin with a target path", "fn main() { println!(\"{}\", env!(\"DIR_OF_TREE\")); }\n", "bin", Cwd, nil},
		// Generated code included from OUT_DIR: its panic locations name
		// the absolute OUT_DIR path, in the object's .rodata.
		{"lib including panicking code from OUT_DIR", "include!(concat!(env!(\"OUT_DIR\"), \"/gen.rs\"));\n", "lib", Cwd + "," + Target,
			map[string]string{"target/debug/build/x-1/out/gen.rs": "pub fn h(v: &[u8]) -> u8 { v[3] }\n"}},
		{"lib including panic-free code from OUT_DIR", "include!(concat!(env!(\"OUT_DIR\"), \"/gen.rs\"));\n", "lib", "",
			map[string]string{"target/debug/build/x-1/out/gen.rs": "pub const N: u32 = 3;\npub fn h() -> u32 { N }\n"}},
		{"proc-macro", "extern crate proc_macro;\n#[proc_macro]\npub fn m(_: proc_macro::TokenStream) -> proc_macro::TokenStream { \"\".parse().unwrap() }\n", "proc-macro", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "wt a")
			files := map[string]string{"src/lib.rs": tc.lib}
			for k, v := range tc.extraS {
				files[k] = v
			}
			for p, c := range files {
				os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755)
				os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644)
			}
			out := filepath.Join(dir, "target", "debug", "deps")
			os.MkdirAll(out, 0o755)
			emit := "dep-info,metadata,link"
			if tc.types != "lib" {
				emit = "dep-info,link"
			}
			cmd := exec.Command("rustc", "--edition=2021", "--crate-name", "x", "--crate-type", tc.types, "src/lib.rs",
				"--emit="+emit, "-C", "debuginfo=2", "-C", "metadata=1", "-C", "extra-filename=-1", "--out-dir", out)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "DIR_OF_TREE="+dir+"/data", "OUT_DIR="+dir+"/target/debug/build/x-1/out")
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("rustc: %v\n%s", err, b)
			}
			dep, err := os.ReadFile(filepath.Join(out, "x-1.d"))
			if err != nil {
				t.Fatal(err)
			}
			info, err := depinfo.Parse(string(dep))
			if err != nil {
				t.Fatal(err)
			}
			var outputs []string
			ents, _ := os.ReadDir(out)
			for _, e := range ents {
				if !strings.HasSuffix(e.Name(), ".d") {
					outputs = append(outputs, filepath.Join(out, e.Name()))
				}
			}
			u := pinUnit(dir)
			pins, err := u.Pins(outputs, info.Files)
			if err != nil {
				t.Fatal(err)
			}
			if got := pinNames(pins); got != tc.want {
				t.Errorf("pins of %v = %q, want %q", outputs, got, tc.want)
			}
		})
	}
}

// NamesTree is Pins' scan for given dirs: seed asks it of a donor's units.
func TestNamesTree(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	named := write("named", "x /w/donor/target/debug/build/g-1/out/data.txt y")
	other := write("other", "x /w/donor2/target y")
	meta := write("lib.rmeta", string(rmetaLike("/w/donor/target/debug/build/g-1/out/gen.rs")))
	for _, tc := range []struct {
		files   []string
		allowed []string
		want    bool
	}{
		{[]string{other}, nil, false},
		{[]string{other, named}, nil, true},
		{[]string{meta}, nil, true},
		{[]string{meta}, []string{"/w/donor/target/debug/build/g-1/out/gen.rs"}, false},
	} {
		got, err := NamesTree(tc.files, []string{"/w/donor", "/w/donor/target"}, tc.allowed)
		if err != nil || got != tc.want {
			t.Errorf("NamesTree(%v, allowed %v) = %v, %v; want %v", tc.files, tc.allowed, got, err, tc.want)
		}
	}
}
